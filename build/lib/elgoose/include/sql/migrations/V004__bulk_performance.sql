-- Bulk-load performance (the benchmark, bench/README.md): same data, same results, less work per row.

-- ---- bronze: marking a row processed is a HOT update ---------------------------------------------------
-- Silver marks every bronze row it reads (is_processed, processed_at). With an index on is_processed (the
-- partial index below) that update can never be HOT: it wrote a new version of each row into every index.
-- Silver now finds unprocessed rows through the primary key (they are the rows above the newest processed
-- one: include/sql/silver/_silver.sql), and pages keep room for the second version of their rows, so the
-- update stays on the page and touches no index. The table ends the same size as before: the update left
-- a dead version of every row behind either way.
do $$
declare
    method text;
begin
    foreach method in array array['venues', 'shows', 'songs', 'setlists', 'latest', 'jamcharts',
                                  'appearances', 'links', 'uploads', 'metadata']
    loop
        execute format('drop index if exists raw_data.%I', method || '_unprocessed_idx');
        execute format('alter table raw_data.%I set (fillfactor = 50)', method);
    end loop;
end
$$;

-- ---- bronze: a pull of unchanged records parses nothing ---------------------------------------------------
-- The blake2b-128 of the bytes a current version was last served as (plugins/elgoose/bronze.py). A record
-- served byte for byte the same again is that version: it is neither parsed nor hashed in canonical form.
-- NULL for versions loaded before this migration: their next pull parses them once, and fills it in.
alter table raw_data.current_versions add column if not exists raw_hash text;

-- ---- silver: typing at bulk speed ----------------------------------------------------------------------
-- The same results as V002's helpers, with a cheap path for the common case. Measured on 85k setlist rows:
-- the regular expressions and nested calls of V002's helpers cost ~2 us per field, and to_date and
-- to_timestamptz were never inlined (their casts from text are STABLE). Each helper below first tries a
-- check made of plain string functions that accepts only values V002's definition maps to the same result,
-- and falls back to exactly V002's expression for anything else (tests/test_silver_typing.py).

-- Text forms of to_int / to_bigint / to_bool(jsonb), for `data ->> 'key'` (one extraction per field).
-- They equal the jsonb forms on every JSON value: a number's text has no blanks, sign '+', exponent or
-- upper case; a string is taken as its text; true/false read 'true'/'false'; null is NULL; an object
-- or array reads as JSON text, which no branch accepts.
create or replace function silver.text_to_int(t text) returns integer
language sql immutable parallel safe as $$
    select case
        when octet_length(t) between 1 and 9 and translate(t, '0123456789', '') = '' then t::integer
        when btrim(t) ~ '^-?[0-9]{1,9}$' then btrim(t)::integer
    end
$$;

create or replace function silver.text_to_bigint(t text) returns bigint
language sql immutable parallel safe as $$
    select case
        when octet_length(t) between 1 and 18 and translate(t, '0123456789', '') = '' then t::bigint
        when btrim(t) ~ '^-?[0-9]{1,18}$' then btrim(t)::bigint
    end
$$;

create or replace function silver.text_to_bool(t text) returns boolean
language sql immutable parallel safe as $$
    select case t
        when '0' then false
        when '1' then true
        else case lower(btrim(t)) when '0' then false when 'false' then false when '1' then true when 'true' then true end
    end
$$;

-- 'YYYY-MM-DD' that is a real calendar date, else NULL. Days 01-28 exist in every month: no calendar check.
-- make_date, not t::date: the text-to-date cast is STABLE (DateStyle), which kept V002's immutable helper
-- from being inlined (a call through the SQL-function executor for every value).
create or replace function silver.to_date(t text) returns date
language sql immutable parallel safe as $$
    select case
        when octet_length(t) = 10 and substr(t, 5, 1) = '-' and substr(t, 8, 1) = '-'
         and translate(t, '0123456789', '') = '--' and left(t, 1) <> '0'
         and substr(t, 6, 2) between '01' and '12' and substr(t, 9, 2) between '01' and '28'
        then make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int)
        when t ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
         and substr(t, 9, 2)::int <= extract(day from (make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
                                                       + interval '1 month - 1 day'))
        then make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int)
    end
$$;

-- 'YYYY-MM-DD HH:MM:SS' (ElGoose's format, taken as UTC); the '1000-01-01 00:00:00' sentinel means unknown.
-- make_timestamp(...) at time zone 'UTC' equals (t || '+00')::timestamptz and is immutable, so it inlines.
create or replace function silver.to_timestamptz(t text) returns timestamptz
language sql immutable parallel safe as $$
    select case
        when t like '1000-01-01%' then null
        when t ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$'
         and silver.to_date(substr(t, 1, 10)) is not null
        then make_timestamp(substr(t, 1, 4)::int, substr(t, 6, 2)::int, substr(t, 9, 2)::int,
                            substr(t, 12, 2)::int, substr(t, 15, 2)::int, substr(t, 18, 2)::float8) at time zone 'UTC'
    end
$$;

-- 'M:SS', 'MM:SS' or 'H:MM:SS' to seconds; blank or anything else is NULL.
create or replace function silver.track_seconds(t text) returns integer
language sql immutable parallel safe as $$
    select case
        when t is null or t = '' then null
        when octet_length(t) between 4 and 6 and substr(t, octet_length(t) - 2, 1) = ':'
         and translate(t, '0123456789', '') = ':' and substr(t, octet_length(t) - 1, 1) <= '5'
            then split_part(t, ':', 1)::int * 60 + right(t, 2)::int
        when btrim(t) ~ '^[0-9]{1,3}:[0-5][0-9]$'
            then split_part(btrim(t), ':', 1)::int * 60 + split_part(btrim(t), ':', 2)::int
        when btrim(t) ~ '^[0-9]{1,2}:[0-5][0-9]:[0-5][0-9]$'
            then split_part(btrim(t), ':', 1)::int * 3600 + split_part(btrim(t), ':', 2)::int * 60
                 + split_part(btrim(t), ':', 3)::int
    end
$$;

-- Text that means "none" when blank becomes NULL; other text is decoded and kept as is.
-- Text without '&' has no entity to decode: skip the PL/pgSQL call.
create or replace function silver.clean_text(t text) returns text
language sql immutable parallel safe as $$
    select case
        when t is null then null
        when strpos(t, '&') = 0 then nullif(btrim(t), '')
        else nullif(btrim(silver.decode_html(t)), '')
    end
$$;
