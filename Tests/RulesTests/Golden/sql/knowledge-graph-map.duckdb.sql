-- rulec compile --target sql --dialect duckdb
-- The items `rulec run` accepts from the same outputs: item_id, collector, source_input_id and
-- inclusion_probability, in the order rulec writes them (line, output in the line, collector).
-- It reads Clarifai outputs or PostModelOutputs responses, one JSON object per line, in
-- either spelling of Clarifai's JSON (proto names such as model_version, or lowerCamelCase).
-- Only successful outputs of these models are read (no rows can mean the data holds none of
-- them; the --report query counts each collector's events):
--   clarifai/main/general-image-recognition

WITH
-- Each line of the file, numbered from 1.
raw_lines AS (
  SELECT string_split(content, chr(10)) AS all_lines FROM read_text('recording.jsonl')
),
lines AS (
  SELECT CAST(n AS BIGINT) AS line_number, all_lines[n] AS line
  FROM raw_lines, range(1, len(all_lines) + 1) AS numbers(n)
),
-- A line is one output, or a response whose `outputs` holds several; a line that is not a JSON
-- object contributes nothing (rulec run reports it as a bad line), nor does an object that
-- is neither (it names no model, below).
documents AS MATERIALIZED (
  SELECT line_number, line,
    -- `"outputs"` in the text first: most lines are outputs, and the check parses the line again.
    contains(line, '"outputs"') AND json_exists(line, '$.outputs') AS is_response
  FROM lines
  WHERE json_valid(line) AND starts_with(ltrim(line), '{')
),
-- Each output parsed once into the fields rules read, both spellings side by side (a JSON
-- path per field parsed the output again for each).
raw_outputs AS (
  SELECT line_number, 0 AS output_index, json_transform(line, '{"id": "VARCHAR", "status": {"code": "VARCHAR"}, "created_at": "VARCHAR", "createdAt": "VARCHAR", "caller_user_id": "VARCHAR", "callerUserId": "VARCHAR", "model": {"id": "VARCHAR", "user_id": "VARCHAR", "userId": "VARCHAR", "app_id": "VARCHAR", "appId": "VARCHAR", "model_version": {"id": "VARCHAR"}, "modelVersion": {"id": "VARCHAR"}}, "input": {"id": "VARCHAR", "data": "JSON"}, "data": {"concepts": [{"id": "VARCHAR", "name": "VARCHAR", "value": "DOUBLE"}]}}') AS p
  FROM documents
  WHERE NOT is_response
  UNION ALL
  SELECT line_number, CAST(n - 1 AS INTEGER) AS output_index, json_transform(outputs[n], '{"id": "VARCHAR", "status": {"code": "VARCHAR"}, "created_at": "VARCHAR", "createdAt": "VARCHAR", "caller_user_id": "VARCHAR", "callerUserId": "VARCHAR", "model": {"id": "VARCHAR", "user_id": "VARCHAR", "userId": "VARCHAR", "app_id": "VARCHAR", "appId": "VARCHAR", "model_version": {"id": "VARCHAR"}, "modelVersion": {"id": "VARCHAR"}}, "input": {"id": "VARCHAR", "data": "JSON"}, "data": {"concepts": [{"id": "VARCHAR", "name": "VARCHAR", "value": "DOUBLE"}]}}') AS p
  FROM (SELECT line_number, json_transform(line, '{"outputs": "JSON[]"}').outputs AS outputs FROM documents WHERE is_response),
       range(1, len(outputs) + 1) AS numbers(n)
),
fields AS (
  SELECT line_number, output_index,
    -- No status is success; a status whose code is null or left out is code 0 (Grammar.md §9).
    -- The code is a number, a string of an integer (spaces around it allowed) or a name.
    p."status" IS NULL OR COALESCE(p."status"."code" = 'SUCCESS' OR TRY_CAST(trim(p."status"."code") AS DOUBLE) = 10000, false) AS success,
    p."model"."id" AS model_id,
    COALESCE(p."model"."user_id", p."model"."userId") AS model_user,
    COALESCE(p."model"."app_id", p."model"."appId") AS model_app,
    COALESCE(p."model"."model_version"."id", p."model"."modelVersion"."id") AS model_version,
    COALESCE(p."caller_user_id", p."callerUserId") AS caller,
    p."id" AS output_id,
    p."input"."id" AS input_id,
    NULLIF(p."input"."data", 'null') AS input_data,
    NULLIF(json_extract(p."input"."data", '$.metadata'), 'null') AS metadata,
    list_transform(COALESCE(p."data"."concepts", []), lambda c: {'id': COALESCE(c.id, ''), 'name': COALESCE(c.name, ''), 'value': COALESCE(c.value, 0)}) AS concepts
  FROM raw_outputs
),
keyed AS (
  SELECT *, COALESCE(input_id, output_id, 'line' || CAST(line_number AS VARCHAR) || '-' || CAST(output_index AS VARCHAR)) AS input_key
  FROM fields
),
readable_outputs AS (
  SELECT *,
    -- The key's UTF-8 bytes, for destination ids.
    list_transform(range(octet_length(encode(input_key))), lambda i: CAST('0x' || substr(hex(encode(input_key)), 2 * i + 1, 2) AS INTEGER)) AS input_key_bytes,
    list_filter(COALESCE(json_keys(input_data), []), lambda k: k IN ('image', 'video', 'text', 'audio') AND json_type(input_data, '$."' || k || '"') = 'OBJECT')[1] AS input_kind,
    json_extract_string(input_data, '$.text.raw') AS input_text,
    json_extract_string(input_data, '$."' || list_filter(COALESCE(json_keys(input_data), []), lambda k: k IN ('image', 'video', 'text', 'audio') AND json_type(input_data, '$."' || k || '"') = 'OBJECT')[-1] || '".url') AS input_url
  FROM keyed
  -- A successful output that names no model cannot be routed: its whole line is bad.
  QUALIFY NOT bool_or(success AND COALESCE(model_id, '') = '') OVER (PARTITION BY line_number)
),
outputs AS (
  SELECT *
  FROM readable_outputs
),
-- collector general-to-pets (knowledge-graph-map.rule:3): clarifai/main/general-image-recognition
collector_0_seen AS (
  SELECT line_number, output_index, input_id, input_key, input_key_bytes, input_kind, input_text, input_url, metadata,
    model_id, model_user, model_app, model_version,
    (list_transform([list_filter(list_transform(list_transform(concepts, lambda c: {'c': c, 't': COALESCE(map_extract_value(MAP {'cat': 'feline', 'dog': 'canine', 'kitten': 'feline', 'puppy': 'canine'}, c.name), map_extract_value(MAP {'cat': 'feline', 'dog': 'canine', 'kitten': 'feline', 'puppy': 'canine'}, c.id))}), lambda x: CASE WHEN x.t IS NOT NULL THEN {'id': x.t, 'name': x.t, 'value': x.c.value} ELSE NULL END), lambda c: c IS NOT NULL)], lambda rn: list_transform(list_filter(range(1, len(rn) + 1), lambda i: list_position(list_transform(rn, lambda c: c.name), (rn)[i].name) = i), lambda i: {'id': (rn)[i].id, 'name': (rn)[i].name, 'value': list_max(list_transform(list_filter(rn, lambda m: m.name = (rn)[i].name), lambda m: m.value))})))[1] AS concepts
  FROM outputs
  WHERE success AND COALESCE(model_user, '') = 'clarifai' AND COALESCE(model_app, '') = 'main' AND COALESCE(model_id, '') = 'general-image-recognition'
),
collector_0_decided AS (
  SELECT line_number, output_index, input_id, input_key, input_key_bytes,
    -- knowledge-graph-map.rule:14 pre_queue: require any concept in [canine, feline] > 0.7
    (len(list_filter(concepts, lambda c1: (c1.name IN ('canine', 'feline') OR c1.id IN ('canine', 'feline')) AND COALESCE(c1.value > CAST('0.7' AS DOUBLE), false))) > 0) AS pre_1
  FROM collector_0_seen
),
-- An input is accepted once per collector: its first output that passes every statement; its
-- later outputs are duplicates.
collector_0_outcomes AS (
  SELECT *, COALESCE((line_number * 100000 + output_index) = accepted_at, false) AS accepted, COALESCE((line_number * 100000 + output_index) > accepted_at, false) AS duplicate FROM (
    SELECT *, min(CASE WHEN pre_1 THEN (line_number * 100000 + output_index) END) OVER (PARTITION BY input_key) AS accepted_at
    FROM collector_0_decided)
),
collector_0 AS (
  SELECT 'general-to-pets-' || array_to_string(list_transform((input_key_bytes)[1:15], lambda b: CASE WHEN b BETWEEN 97 AND 122 OR b BETWEEN 48 AND 57 OR b IN (95, 45) THEN chr(b) WHEN b BETWEEN 65 AND 90 THEN chr(b + 32) ELSE '-' END), '') || '-' || lpad(lower(hex(CAST(list_reduce(input_key_bytes, lambda h, b: (xor(h, b) * 1099511628211) % 18446744073709551616, CAST(12708355126260623640 AS HUGEINT)) AS UBIGINT))), 16, '0') AS item_id, 'general-to-pets' AS collector, input_id AS source_input_id,
    CAST('1.0' AS DOUBLE) AS inclusion_probability, line_number, output_index, 0 AS collector_index
  FROM collector_0_outcomes
  WHERE accepted
)
SELECT * FROM collector_0
ORDER BY line_number, output_index, collector_index;
