"""The sagas as executable tables (order.py, packing.py) and the one runner that drives them."""
