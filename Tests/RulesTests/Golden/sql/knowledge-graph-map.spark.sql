-- rulec compile --target sql --dialect spark
-- The items `rulec run` accepts from the same outputs: item_id, collector, source_input_id and
-- inclusion_probability, in the order rulec writes them (line, output in the line, collector).
-- It reads Clarifai outputs or PostModelOutputs responses, one JSON object per line, in
-- either spelling of Clarifai's JSON (proto names such as model_version, or lowerCamelCase).
-- Only successful outputs of these models are read (no rows can mean the data holds none of
-- them; the --report query counts each collector's events):
--   clarifai/main/general-image-recognition
-- Spark's analyzer resolves this query's nested windows and lambdas in more iterations than its
-- default bound (100): run this first (spark-sql -f runs the file as it is; in PySpark, set it with
-- spark.conf.set and run the query alone).
SET spark.sql.analyzer.maxIterations = 1400;

WITH
-- Each line of the file, numbered from 1 in file order: Spark's text reader, each split's
-- lines counted and the counts of the splits before added.
raw_lines AS (
  SELECT monotonically_increasing_id() AS row_id, value AS line FROM text.`recording.jsonl`
),
splits AS (
  SELECT split, COALESCE(sum(lines) OVER (ORDER BY split ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lines_before
  FROM (SELECT shiftright(row_id, 33) AS split, count(*) AS lines FROM raw_lines GROUP BY 1)
),
lines AS (
  SELECT CAST(splits.lines_before + (raw_lines.row_id & 8589934591) + 1 AS BIGINT) AS line_number, raw_lines.line
  FROM raw_lines JOIN splits ON shiftright(raw_lines.row_id, 33) = splits.split
),
-- A line is one output, or a response whose `outputs` holds several; a line that is not a JSON
-- object contributes nothing (rulec run reports it as a bad line), nor does an object that
-- is neither (it names no model, below).
documents AS (
  SELECT line_number, line,
    -- `"outputs"` in the text first: most lines are outputs, and the check parses the line again.
    contains(line, '"outputs"') AND array_contains(json_object_keys(line), 'outputs') AS is_response
  FROM lines
  WHERE startswith(ltrim(line), '{') AND try_parse_json(line) IS NOT NULL
),
-- Each output parsed once into the fields rules read, both spellings side by side (a JSON
-- path per field parsed the output again for each).
raw_outputs AS (
  SELECT line_number, 0 AS output_index, from_json(line, 'STRUCT<`id`: STRING, `status`: STRUCT<`code`: STRING>, `created_at`: STRING, `createdAt`: STRING, `caller_user_id`: STRING, `callerUserId`: STRING, `model`: STRUCT<`id`: STRING, `user_id`: STRING, `userId`: STRING, `app_id`: STRING, `appId`: STRING, `model_version`: STRUCT<`id`: STRING>, `modelVersion`: STRUCT<`id`: STRING>>, `input`: STRUCT<`id`: STRING, `data`: STRING>, `data`: STRUCT<`concepts`: ARRAY<STRUCT<`id`: STRING, `name`: STRING, `value`: STRING>>>>') AS p
  FROM documents
  WHERE NOT is_response
  UNION ALL
  SELECT line_number, output_index, from_json(output, 'STRUCT<`id`: STRING, `status`: STRUCT<`code`: STRING>, `created_at`: STRING, `createdAt`: STRING, `caller_user_id`: STRING, `callerUserId`: STRING, `model`: STRUCT<`id`: STRING, `user_id`: STRING, `userId`: STRING, `app_id`: STRING, `appId`: STRING, `model_version`: STRUCT<`id`: STRING>, `modelVersion`: STRUCT<`id`: STRING>>, `input`: STRUCT<`id`: STRING, `data`: STRING>, `data`: STRUCT<`concepts`: ARRAY<STRUCT<`id`: STRING, `name`: STRING, `value`: STRING>>>>') AS p
  FROM (SELECT line_number, posexplode(from_json(line, 'STRUCT<outputs: ARRAY<STRING>>').outputs) AS (output_index, output)
        FROM documents WHERE is_response)
),
fields AS (
  SELECT line_number, output_index,
    -- No status is success; a status whose code is null or left out is code 0 (Grammar.md §9).
    -- The code is a number, a string of an integer (spaces around it allowed) or a name.
    p.`status` IS NULL OR COALESCE(p.`status`.`code` = 'SUCCESS' OR TRY_CAST(trim(p.`status`.`code`) AS DOUBLE) = 10000, false) AS success,
    p.`model`.`id` AS model_id,
    COALESCE(p.`model`.`user_id`, p.`model`.`userId`) AS model_user,
    COALESCE(p.`model`.`app_id`, p.`model`.`appId`) AS model_app,
    COALESCE(p.`model`.`model_version`.`id`, p.`model`.`modelVersion`.`id`) AS model_version,
    COALESCE(p.`caller_user_id`, p.`callerUserId`) AS caller,
    p.`id` AS output_id,
    p.`input`.`id` AS input_id,
    NULLIF(p.`input`.`data`, 'null') AS input_data,
    try_parse_json(p.`input`.`data`) AS input_document,
    transform(COALESCE(p.`data`.`concepts`, array()), c -> named_struct('id', COALESCE(c.id, ''), 'name', COALESCE(c.name, ''), 'value', COALESCE(try_cast(c.value AS DOUBLE), 0))) AS concepts
  FROM raw_outputs
),
keyed AS (
  SELECT *, COALESCE(input_id, output_id, 'line' || CAST(line_number AS STRING) || '-' || CAST(output_index AS STRING)) AS input_key
  FROM fields
),
readable_outputs AS (
  SELECT * EXCEPT (bad_line, input_document),
    -- The key's UTF-8 bytes, for destination ids.
    transform(filter(sequence(0, greatest(octet_length(input_key) - 1, 0)), n_ -> n_ < octet_length(input_key)), i -> CAST(conv(substr(hex(input_key), 2 * i + 1, 2), 16, 10) AS INTEGER)) AS input_key_bytes,
    try_element_at(filter(COALESCE(json_object_keys(input_data), array()), k -> (k = 'image' AND startswith(schema_of_variant(variant_get(input_document, '$.image')), 'OBJECT')) OR (k = 'video' AND startswith(schema_of_variant(variant_get(input_document, '$.video')), 'OBJECT')) OR (k = 'text' AND startswith(schema_of_variant(variant_get(input_document, '$.text')), 'OBJECT')) OR (k = 'audio' AND startswith(schema_of_variant(variant_get(input_document, '$.audio')), 'OBJECT'))), 1) AS input_kind,
    try_variant_get(input_document, '$.text.raw', 'string') AS input_text,
    CASE try_element_at(filter(COALESCE(json_object_keys(input_data), array()), k -> (k = 'image' AND startswith(schema_of_variant(variant_get(input_document, '$.image')), 'OBJECT')) OR (k = 'video' AND startswith(schema_of_variant(variant_get(input_document, '$.video')), 'OBJECT')) OR (k = 'text' AND startswith(schema_of_variant(variant_get(input_document, '$.text')), 'OBJECT')) OR (k = 'audio' AND startswith(schema_of_variant(variant_get(input_document, '$.audio')), 'OBJECT'))), -1) WHEN 'image' THEN try_variant_get(input_document, '$.image.url', 'string') WHEN 'video' THEN try_variant_get(input_document, '$.video.url', 'string') WHEN 'text' THEN try_variant_get(input_document, '$.text.url', 'string') WHEN 'audio' THEN try_variant_get(input_document, '$.audio.url', 'string') END AS input_url,
    variant_get(input_document, '$.metadata') AS metadata
  FROM (SELECT *, bool_or(success AND COALESCE(model_id, '') = '') OVER (PARTITION BY line_number) AS bad_line FROM keyed)
  -- A successful output that names no model cannot be routed: its whole line is bad.
  WHERE NOT bad_line
),
outputs AS (
  SELECT *
  FROM readable_outputs
),
-- collector general-to-pets (knowledge-graph-map.rule:3): clarifai/main/general-image-recognition
collector_0_seen AS (
  SELECT line_number, output_index, input_id, input_key, input_key_bytes, input_kind, input_text, input_url, metadata,
    model_id, model_user, model_app, model_version,
    try_element_at(transform(array(filter(transform(transform(concepts, c -> named_struct('c', c, 't', COALESCE(try_element_at(map('cat', 'feline', 'dog', 'canine', 'kitten', 'feline', 'puppy', 'canine'), c.name), try_element_at(map('cat', 'feline', 'dog', 'canine', 'kitten', 'feline', 'puppy', 'canine'), c.id)))), x -> CASE WHEN x.t IS NOT NULL THEN named_struct('id', x.t, 'name', x.t, 'value', x.c.value) ELSE NULL END), c -> c IS NOT NULL)), rn -> transform(filter(filter(sequence(1, greatest(size(rn) + 1 - 1, 1)), n_ -> n_ < size(rn) + 1), i -> array_position(transform(rn, c -> c.name), try_element_at(rn, i).name) = i), i -> named_struct('id', try_element_at(rn, i).id, 'name', try_element_at(rn, i).name, 'value', array_max(transform(filter(rn, m -> m.name = try_element_at(rn, i).name), m -> m.value))))), 1) AS concepts
  FROM outputs
  WHERE success AND COALESCE(model_user, '') = 'clarifai' AND COALESCE(model_app, '') = 'main' AND COALESCE(model_id, '') = 'general-image-recognition'
),
collector_0_decided AS (
  SELECT line_number, output_index, input_id, input_key, input_key_bytes,
    -- knowledge-graph-map.rule:14 pre_queue: require any concept in [canine, feline] > 0.7
    (size(filter(concepts, c1 -> (c1.name IN ('canine', 'feline') OR c1.id IN ('canine', 'feline')) AND COALESCE(c1.value > CAST('0.7' AS DOUBLE), false))) > 0) AS pre_1
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
  SELECT 'general-to-pets-' || array_join(transform(slice(input_key_bytes, 1, 15), b -> CASE WHEN b BETWEEN 97 AND 122 OR b BETWEEN 48 AND 57 OR b IN (95, 45) THEN chr(b) WHEN b BETWEEN 65 AND 90 THEN chr(b + 32) ELSE '-' END), '') || '-' || lpad(lower(conv(CAST(aggregate(input_key_bytes, CAST(12708355126260623640 AS DECIMAL(38,0)), (h, b) -> CAST(((h - pmod(h, 256) + (CAST(pmod(h, 256) AS INT) ^ b)) * 1099511628211) % 18446744073709551616 AS DECIMAL(38,0))) AS STRING), 10, 16)), 16, '0') AS item_id, 'general-to-pets' AS collector, input_id AS source_input_id,
    CAST('1.0' AS DOUBLE) AS inclusion_probability, line_number, output_index, 0 AS collector_index
  FROM collector_0_outcomes
  WHERE accepted
)
SELECT * FROM collector_0
ORDER BY line_number, output_index, collector_index;
