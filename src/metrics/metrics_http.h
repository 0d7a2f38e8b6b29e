/*
 * metrics_http: the [listen] metrics listener, plain HTTP on the one
 * connection layer (daemon/conn) read with the ACC's strict parser
 * (acc/http_parse): GET or HEAD /metrics answers the exposition, any other
 * path 404, any other method 405. Before rendering, a worker job samples
 * what lives outside the registry (queue size and oldest message, grants
 * in force); the worker pools' depths are read on the loop.
 */
#ifndef HM_METRICS_HTTP_H
#define HM_METRICS_HTTP_H
struct conn;
/* The service's start (daemon/server.c's table). */
void metrics_conn_start(struct conn *c);
#endif
