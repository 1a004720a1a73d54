"""The command line serves where it says: links point at the port it listens on."""

from marketplace.cli import serving_base_url


def test_serve_without_base_url_links_to_the_port_it_listens_on():
    assert serving_base_url("127.0.0.1", 8100) == "http://127.0.0.1:8100"
    assert serving_base_url("0.0.0.0", 9000) == "http://127.0.0.1:9000"
    assert serving_base_url("::1", 8000) == "http://[::1]:8000"
