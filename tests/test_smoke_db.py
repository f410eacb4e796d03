def test_fresh_warehouse_has_every_layer(warehouse):
    schemas = {r[0] for r in warehouse.execute("select schema_name from information_schema.schemata")}
    assert {"raw_data", "silver"} <= schemas
