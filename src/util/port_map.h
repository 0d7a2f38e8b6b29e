/*
 * port_map: the ports the ACC and autoconfig announce, when they differ
 * from the ones hostmaild listens on (behind NAT or a load balancer):
 * [acc] public_ports = 5587:587, 5465:465 means "what listens on 5587 is
 * reached by customers on 587". A listen port not in the map is announced
 * as it is. Pure.
 */
#ifndef HM_PORT_MAP_H
#define HM_PORT_MAP_H

#define PORT_MAP_MAX 16

struct port_map {
	int n;
	struct { int listen, public_port; } m[PORT_MAP_MAX];
};

/* "LISTEN:PUBLIC, ..." (empty: no mapping) -> map; -1 if malformed, a port
 * is out of 1..65535, a listen port repeats, or there are too many. */
int port_map_parse(const char *value, struct port_map *out);
/* The port customers use for listen port p. */
int port_map_public(const struct port_map *pm, int p);

#endif
