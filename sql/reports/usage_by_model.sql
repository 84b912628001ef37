-- LLM usage per provider and model over everything loaded (printed by `observatory-etl demo`).
SELECT provider, model, sum(calls)::bigint AS calls, sum(errors)::bigint AS errors,
       bigint_or_null(sum(input_tokens)) AS input_tokens, bigint_or_null(sum(output_tokens)) AS output_tokens,
       sum(total_cost_usd) AS total_cost_usd
FROM llm_usage_hourly
GROUP BY provider, model
ORDER BY total_cost_usd DESC NULLS LAST, calls DESC
