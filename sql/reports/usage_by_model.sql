-- LLM usage per provider and model over everything loaded (printed by `observatory-etl demo`).
SELECT provider, model, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors,
       sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
       sum(total_cost_usd) AS total_cost_usd
FROM llm_usage_hourly
GROUP BY provider, model
ORDER BY total_cost_usd DESC NULLS LAST, calls DESC
