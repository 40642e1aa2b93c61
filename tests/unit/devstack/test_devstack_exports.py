from packguard import devstack


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(devstack) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(devstack, name)).__name__ == "module"}
    assert set(devstack.__all__) == public - modules
