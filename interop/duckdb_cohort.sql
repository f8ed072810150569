-- A cohort as a DuckDB user would write it: INTEGER (INT32) and BIGINT (INT64)
-- columns, REAL (FLOAT), dictionary-encoded strings, nulls, several row
-- groups, and a column that is not in the cohort schema.
COPY (
  SELECT
    'D' || lpad(i::VARCHAR, 5, '0')                                   AS patient_id,
    (['pd1', 'pdl1', 'ctla4', 'pd1_ctla4'])[1 + i % 4]                AS ici_class,
    CASE WHEN i % 3 = 0 THEN 0.0 ELSE ([24.0, 50.0, 45.0, 60.0])[1 + i % 4] END::DOUBLE AS rt_dose_gy,
    CASE WHEN i % 3 = 0 THEN NULL ELSE ([3, 4, 15, 30])[1 + i % 4] END::INTEGER         AS rt_fractions,
    CASE WHEN i % 3 = 0 THEN NULL ELSE (['lung', 'bone', 'mediastinum', 'liver'])[1 + i % 4] END AS rt_site,
    CASE WHEN i % 7 = 0 THEN NULL ELSE round(0.3 + (i % 50) * 0.05, 2) END::DOUBLE      AS alc,
    CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 END::BIGINT                               AS ecog,
    CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2 = 0 END                                   AS hla_loh,
    CASE WHEN i % 5 = 0 THEN NULL ELSE (['high', 'low', 'loss'])[1 + i % 3] END         AS mhc1_status,
    (i % 101)::REAL                                                                      AS pdl1_tps,
    'note ' || (i % 17)                                                                  AS clinic_note
  FROM range(5000) t(i)
) TO '%OUT%' (FORMAT parquet, ROW_GROUP_SIZE 2048);
