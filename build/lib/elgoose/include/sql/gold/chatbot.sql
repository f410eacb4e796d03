-- gold_next chatbot helpers: readable views and functions over the gold tables, for the chatbot and
-- for people. They are created in gold_next and published with it as gold.
-- Views bind their tables by identity, so they follow the schema rename to gold. The functions resolve
-- their table names when called, through `set search_path = gold, pg_temp`, and return plain column
-- types (`returns table`, never a gold table's row type): a call that waits for a publish in progress
-- then reads the new tables instead of failing on dropped ones (a body or a result type bound to the
-- old tables would fail: "cache lookup failed"). So their bodies are not checked here (gold may not
-- exist yet, or be older): publish.sql calls each of them after the rename, inside its transaction, so
-- a broken one fails the publish and the previous gold stays.
-- Name look-ups compare gold.fold_name() keys (case- and accent-insensitive), served by the
-- fold_name expression indexes of song_stats, album_tracks, venue_stats, tour_stats and segues.

-- Function bodies are checked by publish.sql once they can resolve against the new gold (see above).
set local check_function_bodies = off;

create view gold_next.top_songs as
select row_number() over (order by times_played desc, song_name collate "C", song_id nulls last)::integer
           as rank,
       song_id,
       song_name,
       is_original,
       original_artist,
       times_played,
       debut_date,
       last_played_date,
       current_gap,
       jamchart_count
  from gold_next.song_stats
 order by rank;

comment on view gold_next.top_songs is
    'Songs by times played (shows), most played first; ties by name (collate "C") then song_id. rank is 1..N.';

create view gold_next.latest_show as
select *
  from gold_next.show_summary
 where show_number = (select max(show_number) from gold_next.show_summary);

comment on view gold_next.latest_show is 'The most recent Goose show with a setlist.';

create function gold_next.find_song(name text)
returns table (song_id integer, song_name text, is_original boolean, original_artist text, is_cover boolean,
               times_played integer, debut_date date, last_played_date date, current_gap integer, avg_gap numeric,
               max_gap integer, jamchart_count integer, times_opened integer, times_closed integer,
               times_encore integer, total_track_seconds bigint, longest_track_seconds integer, last_show_id bigint,
               first_studio_album text, first_studio_album_slug text, first_studio_release_date date)
language sql stable strict
set search_path = gold, pg_temp
as $$
    -- songs whose name matches exactly after folding; if none, songs whose folded name contains it
    select s.song_id, s.song_name, s.is_original, s.original_artist, s.is_cover, s.times_played, s.debut_date,
           s.last_played_date, s.current_gap, s.avg_gap, s.max_gap, s.jamchart_count, s.times_opened, s.times_closed,
           s.times_encore, s.total_track_seconds, s.longest_track_seconds, s.last_show_id, s.first_studio_album,
           s.first_studio_album_slug, s.first_studio_release_date
      from song_stats s
     where fold_name(s.song_name) = fold_name(find_song.name)
    union all
    select s.song_id, s.song_name, s.is_original, s.original_artist, s.is_cover, s.times_played, s.debut_date,
           s.last_played_date, s.current_gap, s.avg_gap, s.max_gap, s.jamchart_count, s.times_opened, s.times_closed,
           s.times_encore, s.total_track_seconds, s.longest_track_seconds, s.last_show_id, s.first_studio_album,
           s.first_studio_album_slug, s.first_studio_release_date
      from song_stats s
     where not exists (select 1
                         from song_stats e
                        where fold_name(e.song_name) = fold_name(find_song.name))
       and fold_name(find_song.name) <> ''
       and strpos(fold_name(s.song_name), fold_name(find_song.name)) > 0
     order by times_played desc, song_name, song_id
$$;

comment on function gold_next.find_song(text) is
    'Song statistics by name, case- and accent-insensitive: exact (folded) matches, else names containing it.';

create function gold_next.song_history(name text)
returns table (show_date date, show_id bigint, show_number integer, set_label text, "position" integer,
               song_id integer, song_name text, gap integer, is_debut boolean, is_bustout boolean,
               is_jamchart boolean, track_seconds integer)
language sql stable strict
set search_path = gold, pg_temp
as $$
    -- every performance of the song(s) find_song(name) finds, in show order
    select p.show_date, p.show_id, p.show_number, p.set_label, p.position, p.song_id, p.song_name, p.gap,
           p.is_debut, p.is_bustout, p.is_jamchart, p.track_seconds
      from song_performances p
      join find_song(song_history.name) s
        on s.song_name = p.song_name and s.song_id is not distinct from p.song_id
     order by p.show_number, p.position
$$;

comment on function gold_next.song_history(text) is
    'Every performance (with gap, debut and bustout flags) of the song(s) gold.find_song(name) finds.';

create function gold_next.song_albums(name text)
returns table (song_id integer, song_name text, album_slug text, album_title text, release_date date,
               release_date_text text, is_live boolean, disc_number integer, "position" integer, is_cover boolean,
               original_artist text, track_seconds integer, times_played integer)
language sql stable strict
set search_path = gold, pg_temp
as $$
    -- album tracks whose song name matches exactly after folding; if none, those whose folded name contains it
    select m.*
      from (select t.song_id, t.song_name, t.album_slug, t.album_title, t.release_date, t.release_date_text,
                   t.album_is_live, t.disc_number, t.position, t.is_cover, t.original_artist, t.track_seconds,
                   t.times_played
              from album_tracks t
             where fold_name(t.song_name) = fold_name(song_albums.name)
            union all
            select t.song_id, t.song_name, t.album_slug, t.album_title, t.release_date, t.release_date_text,
                   t.album_is_live, t.disc_number, t.position, t.is_cover, t.original_artist, t.track_seconds,
                   t.times_played
              from album_tracks t
             where not exists (select 1
                                 from album_tracks e
                                where fold_name(e.song_name) = fold_name(song_albums.name))
               and fold_name(song_albums.name) <> ''
               and strpos(fold_name(t.song_name), fold_name(song_albums.name)) > 0) m
     order by m.release_date nulls last, m.album_slug collate "C", m.disc_number, m.position
$$;

comment on function gold_next.song_albums(text) is
    'The albums (studio and live) a song is on, by song name, case- and accent-insensitive like find_song: exact (folded) matches, else names containing it; oldest release first, unknown dates last.';

create function gold_next.shows_on(show_date date)
returns table (show_id bigint, show_date date, show_number integer, venue_id integer, venue_name text, city text,
               state text, country text, tour_id integer, tour_name text, song_count integer, set_count integer,
               has_encore boolean, jamchart_count integer, debut_count integer, bustout_count integer,
               total_track_seconds bigint, opener text, closer text, setlist_text text)
language sql stable strict
set search_path = gold, pg_temp
as $$
    select s.show_id, s.show_date, s.show_number, s.venue_id, s.venue_name, s.city, s.state, s.country, s.tour_id,
           s.tour_name, s.song_count, s.set_count, s.has_encore, s.jamchart_count, s.debut_count, s.bustout_count,
           s.total_track_seconds, s.opener, s.closer, s.setlist_text
      from show_summary s
     where s.show_date = shows_on.show_date
     order by s.show_number
$$;

comment on function gold_next.shows_on(date) is 'The Goose show(s) of one date, with setlist_text, in show order.';

create function gold_next.on_this_day(month integer, day integer)
returns table (show_date date, show_id bigint, show_number integer, venue_name text, city text, state text,
               country text, setlist_text text)
language sql stable strict
set search_path = gold, pg_temp
as $$
    select s.show_date, s.show_id, s.show_number, s.venue_name, s.city, s.state, s.country, s.setlist_text
      from show_summary s
     where extract(month from s.show_date) = on_this_day.month
       and extract(day from s.show_date) = on_this_day.day
     order by s.show_number
$$;

comment on function gold_next.on_this_day(integer, integer) is
    'Goose shows played on this month and day in past years, oldest first, with venue and setlist_text.';

comment on function gold_next.fold_name(text) is
    'Search key of a name: accents and case removed, quotes and dashes ASCII, white space collapsed.';

select (select count(*) from pg_proc where pronamespace = 'gold_next'::regnamespace)
     + (select count(*) from pg_views where schemaname = 'gold_next') as rows_built
