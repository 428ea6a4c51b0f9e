"""`tote packer`: the packing station terminal."""
