-- gold/prepare.sql: start a gold build in the build schema gold_next.
-- Readers keep using gold (the last published build) until publish.sql swaps gold_next in.
-- gold_next is dropped and recreated, so a failed earlier build leaves nothing behind.
-- Gold refreshes must not overlap (the gold DAG runs one at a time): they share gold_next.

drop schema if exists gold_next cascade;

create schema gold_next;

comment on schema gold_next is 'elgoose gold build in progress; published by gold/publish.sql as schema gold';

-- Case- and accent-insensitive search key, without extensions (unaccent is not on every server):
-- Latin letters with diacritics -> their base letter, ligatures spelled out, typographic quotes
-- and dashes -> ASCII, lower case, runs of white space -> one space, trimmed.
-- Created here because song_stats indexes it; it lives in the schema it is published with.
create function gold_next.fold_name(name text) returns text
language sql immutable strict parallel safe as $$
    select btrim(regexp_replace(lower(
               replace(replace(replace(replace(replace(replace(replace(replace(
               translate(name,
                   'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳØøĐđŁłĦħıÐðŦŧƗƚƀƁ‘’‚‛“”„–—',
                   'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzsOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYyOoDdLlHhiDdTtIlbB''''''''"""--'),
               'Æ', 'AE'), 'æ', 'ae'), 'Œ', 'OE'), 'œ', 'oe'), 'ß', 'ss'), 'Þ', 'TH'), 'þ', 'th'), '…', '...')
           ), '\s+', ' ', 'g'))
$$;

select 0 as rows_built
