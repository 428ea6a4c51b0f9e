"""The end-to-end demo (`scripts/demo`, `tote demo`): a storefront, pickers, packers and a
carrier driving a real `tote serve` over gRPC, then the books and `tote check`."""
