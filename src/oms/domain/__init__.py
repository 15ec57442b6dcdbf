"""The pure domain of oms: entities, value objects and rules. No I/O, no frameworks."""
