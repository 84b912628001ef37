INSERT INTO metrics (
    metric_id, name, service_name, type, unit, description, scope_name, scope_version, scope_attributes,
    resource_attributes
)
SELECT metric_id, name, service_name, type, unit, description, scope_name, scope_version,
       scope_attributes::jsonb, resource_attributes::jsonb
FROM stage_metrics
ON CONFLICT (metric_id) DO NOTHING
