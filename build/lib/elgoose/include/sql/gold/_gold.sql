{#-
  Macros and constants shared by the gold SQL. Gold is rebuilt from silver on every run:

    prepare.sql            drops and recreates the build schema gold_next (and its fold_name helper)
    <table>.sql            one file per table: create table gold_next.<table> as select ... order by key,
                           then its indexes, then `select count(*)` (the rows built)
    chatbot.sql            the readers' views and functions, in gold_next
    publish.sql            one transaction: gold -> gold_previous, gold_next -> gold, grants, drop gold_previous

  Each file runs as one transaction in its own session: nothing but gold_next is shared between steps.
  Values reach the SQL only as fixed template params from settings (params.artist_id,
  params.bustout_min_gap, params.reader_role), rendered as literals, and the registry's list of gold tables
  (params.gold_tables: what publish.sql expects to find complete in gold_next). No bind parameters (and so no
  percent signs) anywhere in gold. Text tie-breaks use collate "C" so that the order does not depend on
  the server's locale.
-#}

{#- One text key per song: the catalogue id, or the decoded name of a free-text song (song_id NULL). -#}
{% macro song_key(alias) -%}
coalesce('id:' || {{ alias }}.song_id::text, 'name:' || {{ alias }}.song_name)
{%- endmacro %}

{#- The last statement of every build file: its row count is what processing_status records. -#}
{% macro rows_built(table) -%}
select count(*) as rows_built from gold_next.{{ table }}
{%- endmacro %}
