/*
 * port_map: listen port -> announced port (see port_map.h).
 */
#include "util/port_map.h"
#include <ctype.h>
#include <stdlib.h>

static int port_at(const char **s, int *out)
{
	char *end;
	long v;

	while (isspace((unsigned char)**s))
		(*s)++;
	if (!isdigit((unsigned char)**s))
		return -1;
	v = strtol(*s, &end, 10);
	if (v < 1 || v > 65535)
		return -1;
	*s = end;
	while (isspace((unsigned char)**s))
		(*s)++;
	*out = (int)v;
	return 0;
}

int port_map_parse(const char *s, struct port_map *out)
{
	int l, p, i;

	out->n = 0;
	while (isspace((unsigned char)*s))
		s++;
	while (*s) {
		if (port_at(&s, &l) < 0 || *s++ != ':' || port_at(&s, &p) < 0)
			return -1;
		if (*s == ',')
			s++;
		else if (*s)
			return -1;
		for (i = 0; i < out->n; i++)
			if (out->m[i].listen == l)
				return -1;
		if (out->n == PORT_MAP_MAX)
			return -1;
		out->m[out->n].listen = l;
		out->m[out->n++].public_port = p;
		while (isspace((unsigned char)*s))
			s++;
	}
	return 0;
}

int port_map_public(const struct port_map *pm, int p)
{
	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].listen == p)
			return pm->m[i].public_port;
	return p;
}
