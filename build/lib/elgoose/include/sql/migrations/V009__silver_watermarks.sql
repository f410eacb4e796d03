-- Silver's watermark per API method: the newest bronze id its last step processed. Bronze only appends and
-- a silver step marks every row above the watermark, so the unprocessed rows are the ones above it. Found
-- before by scanning bronze back from its newest row to the newest processed one, which reads every
-- unprocessed row first (0.15 s of 85k setlist rows, per step). Kept by the silver step itself
-- (include/sql/silver/_silver.sql, finish()) in its transaction. Seeded here for every bronze table; a
-- method without a row (a bronze table added later without one) is scanned for as before.
create table if not exists raw_data.silver_watermarks (
    method             text primary key,
    processed_through  bigint not null
);

do $$
declare
    method text;
begin
    for method in
        select c.table_name
          from information_schema.columns c
         where c.table_schema = 'raw_data' and c.column_name = 'is_processed'
    loop
        execute format(
            'insert into raw_data.silver_watermarks (method, processed_through)
             select %L, coalesce(max(id), 0) from raw_data.%I where is_processed
             on conflict (method) do nothing',
            method, method);
    end loop;
end
$$;
