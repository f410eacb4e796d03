-- gold/publish.sql: make the completed build gold_next the gold that readers see, in ONE transaction.
-- gold -> gold_previous, gold_next -> gold, grants, drop gold_previous. Readers see either the old gold
-- or the new one, never a missing or empty table: the old gold's tables and views are locked first (all
-- of them, or none and retry: publish never waits while holding some of them, so it cannot deadlock with
-- a reader that joins several), statements already reading finish first, statements that arrive then
-- wait and, once this commits, read the new tables (PostgreSQL looks a waiting name up again).
-- If anything fails (gold_next missing or incomplete: publish without prepare or after a failed build
-- step; a broken helper function), the transaction rolls back and the previous gold stays in place.
-- Reader grants: usage on schema gold and select on its tables and views to the role
-- '{{ params.reader_role }}' when that setting is not empty and the role exists; skipped otherwise.
-- Rows built: the rows of all published gold tables (params.gold_tables, the registry's).
select pg_advisory_xact_lock(hashtextextended('elgoose:gold:publish', 0));

do $$
declare
    missing text;
begin
    if not exists (select 1 from pg_namespace where nspname = 'gold_next') then
        raise exception 'gold publish: schema gold_next does not exist (run gold/prepare.sql and the build steps first)';
    end if;
    select string_agg(t, ', ' order by t) into missing
      from unnest(array[{% for t in params.gold_tables %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %}]) t
     where to_regclass('gold_next.' || t) is null;
    if missing is not null then
        raise exception using message = 'gold publish: gold_next is incomplete, missing table(s): ' || missing;
    end if;
    if to_regprocedure('gold_next.find_song(text)') is null then
        raise exception 'gold publish: gold_next is incomplete, the chatbot helpers are missing';
    end if;
end
$$;

drop schema if exists gold_previous cascade;

-- Take every relation of the current gold at once, or none: NOWAIT in a subtransaction that is rolled
-- back (releasing what it got) and retried every 50 ms while a reader holds one, for up to 10 minutes.
do $$
declare
    relations text;
    attempts integer := 0;
begin
    select string_agg(quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', '
                      order by c.relname)
      into relations
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'gold' and c.relkind in ('r', 'v', 'm', 'p');
    if relations is null then
        return;
    end if;
    loop
        begin
            execute 'lock table ' || relations || ' in access exclusive mode nowait';
            return;
        exception when lock_not_available then
            attempts := attempts + 1;
            if attempts >= 12000 then
                raise exception using message = 'gold publish: readers kept gold locked for 10 minutes';
            end if;
            perform pg_sleep(0.05);
        end;
    end loop;
end
$$;

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'gold') then
        execute 'alter schema gold rename to gold_previous';
    end if;
end
$$;

alter schema gold_next rename to gold;

comment on schema gold is 'elgoose gold: Goose statistics rebuilt from silver, published atomically by gold/publish.sql';

do $$
declare
    reader text := '{{ params.reader_role }}';
begin
    if reader <> '' and exists (select 1 from pg_roles where rolname = reader) then
        execute 'grant usage on schema gold to ' || quote_ident(reader);
        execute 'grant select on all tables in schema gold to ' || quote_ident(reader);
    end if;
end
$$;

-- The helper functions resolve their tables when called: check them against the new gold now.
select count(*) from gold.find_song('');
select count(*) from gold.song_history('');
select count(*) from gold.song_albums('');
select count(*) from gold.shows_on(date '2000-01-01');
select count(*) from gold.on_this_day(1, 1);

drop schema if exists gold_previous cascade;

select {% for t in params.gold_tables %}(select count(*) from gold.{{ t }}){% if not loop.last %}
     + {% endif %}{% endfor %} as rows_built
