"""Market supervision: entities, credit, random inspections, complaints, risk warnings."""
