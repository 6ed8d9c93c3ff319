from tests.orders.conftest import make_store

__all__ = ["make_store"]
