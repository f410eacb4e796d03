-- Indexes that no query of the pipeline reads, dropped: each was written on every silver load. Measured on
-- the 10x benchmark (85k setlist rows, one first load): each of the three on silver.setlists cost 0.10 to
-- 0.15 s of the setlists upsert (1.43 s with them, 1.04 s without), on the run's critical path.
--
-- silver.setlists is read by its key (unique_id: jamcharts' orphans, gold's song_stats), by artist and date
-- (setlists_artist_date_idx: the golden-show quality check, gold's artist filter), and whole (gold's
-- rebuild, the position check). Songs by id or name and a show's rows in order are gold's questions, asked
-- of gold.song_performances and gold.show_summary.
drop index if exists silver.setlists_song_idx;
drop index if exists silver.setlists_lower_song_name_idx;
drop index if exists silver.setlists_show_position_idx;

-- The same columns as the unique index rejects_once_idx, which serves every look-up this one did.
drop index if exists silver.rejects_source_idx;
