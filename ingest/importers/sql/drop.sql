-- The batch's temporary tables, once it is done with them.
{% for table in tables %}
drop table if exists {{ ident(table) }};
{% endfor %}
