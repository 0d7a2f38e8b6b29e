#!/usr/bin/python3
"""Build src/admin/openapi.json from the compact description below.

Writes the OpenAPI 3.1 document (src/admin/openapi.json) and the C file
that serves it (src/admin/admin_openapi.c). Run after editing; both
outputs are committed, so a build needs no Python.
"""
import json
import os

E = {"$ref": "#/components/responses/Error"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def ok(schema, code="200", desc="OK"):
    return {code: {"description": desc, "content": {"application/json": {"schema": schema}}}}


def errors(*codes):
    return {str(c): E for c in codes}


def body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def op(summary, responses, request=None, params=None, read=True):
    o = {"summary": summary, "responses": {**responses, **errors(401, 500)}}
    if not read:
        o["responses"].update(errors(403))
    if request:
        o["requestBody"] = body(request)
    if params:
        o["parameters"] = params
    return o


def optional_body(o):
    o["requestBody"]["required"] = False
    return o


def path_param(name, desc):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": desc}


def query_param(name, desc):
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": desc}


NODE = [path_param("n", "node number")]
NAME = [path_param("name", "account name")]
DOMAIN = [path_param("domain", "domain name")]
ADDRESS = [path_param("address", "mailbox address, local@domain")]
ID = [path_param("id", "queue id")]
IP = [path_param("ip", "client IP address")]
OK = ok(ref("Ok"))

limit_value = {"oneOf": [{"type": "integer", "minimum": 0}, {"const": "default"}, {"type": "null"}]}
limit_shown = {"type": "object", "required": ["value", "default"], "additionalProperties": False,
               "properties": {"value": {"type": "integer"}, "default": {"type": "boolean"}}}
quota_shown = {"type": "integer", "minimum": 0, "description": "0: no limit"}
size_str = {"type": "string", "pattern": "^([0-9]+[KkMmGgTt]?|none|unlimited)$",
            "description": "hostmailctl's SIZE: bytes, or K, M, G, T (powers of 1024)"}
quota_value = {"oneOf": [{"type": "integer", "minimum": 0}, size_str, {"const": "default"}, {"type": "null"}],
               "description": "0: no limit; \"default\" or null: the account's default"}
account_quota_value = {"oneOf": [{"type": "integer", "minimum": 0}, size_str, {"type": "null"}],
                       "description": "0 or null: no default limit"}
nullable_int = {"type": ["integer", "null"], "minimum": 0}
date_or_null = {"type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
time_str = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}

schemas = {
    "Error": {"type": "object", "required": ["error"], "additionalProperties": False,
              "properties": {"error": {"type": "string"},
                             "field": {"type": "string", "description": "the request member at fault (400)"}}},
    "Ok": {"type": "object", "required": ["ok"], "additionalProperties": False,
           "properties": {"ok": {"const": True}}},
    "Account": {"type": "object", "required": ["name", "status", "created", "server_number"],
                "additionalProperties": False,
                "properties": {"name": {"type": "string"}, "status": {"enum": ["active", "suspended"]},
                               "created": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                               "server_number": {"type": "integer"}}},
    "AccountDetail": {"type": "object",
                      "required": ["name", "status", "created", "server_number", "domains", "mailboxes", "limits"],
                      "additionalProperties": False,
                      "properties": {"name": {"type": "string"}, "status": {"enum": ["active", "suspended"]},
                                     "created": {"type": "string"}, "server_number": {"type": "integer"},
                                     "domains": {"type": "array", "items": {"type": "string"}},
                                     "mailboxes": {"type": "integer", "minimum": 0},
                                     "limits": {"type": "object", "additionalProperties": False,
                                                "required": ["recipients_per_hour", "recipients_per_day",
                                                             "max_recipients", "mailbox_quota_bytes",
                                                             "mailbox_quota_messages"],
                                                "properties": {"recipients_per_hour": limit_shown,
                                                               "recipients_per_day": limit_shown,
                                                               "max_recipients": limit_shown,
                                                               "mailbox_quota_bytes": quota_shown,
                                                               "mailbox_quota_messages": quota_shown}}}},
    "NewAccount": {"type": "object", "required": ["name"], "additionalProperties": False,
                   "properties": {"name": {"type": "string"}, "created": {"type": "string"},
                                  "server_number": {"type": "integer", "minimum": 0}}},
    "Limits": {"type": "object", "additionalProperties": False,
               "description": "absent: unchanged; recipient limits: \"default\" or null: the configured default; "
                              "mailbox_quota_*: the default quota of the account's mailboxes (docs/quotas.md), "
                              "0 or null: none",
               "properties": {"recipients_per_hour": limit_value, "recipients_per_day": limit_value,
                              "max_recipients": limit_value,
                              "mailbox_quota_bytes": account_quota_value,
                              "mailbox_quota_messages": account_quota_value}},
    "Password": {"type": "object", "required": ["password"], "additionalProperties": False,
                 "properties": {"password": {"type": "string", "minLength": 1},
                                "force": {"type": "boolean", "description": "allow fewer than 8 characters"}}},
    "Sessions": {"type": "object", "required": ["sessions_ended"], "additionalProperties": False,
                 "properties": {"sessions_ended": {"type": "integer", "minimum": 0}}},
    "Domain": {"type": "object", "required": ["domain", "account", "spam"], "additionalProperties": False,
               "properties": {"domain": {"type": "string"}, "account": {"type": "string"},
                              "spam": {"$ref": "#/components/schemas/SpamChoice"}}},
    "SpamChoice": {"enum": ["subject", "headers", "refuse", "default"],
                   "description": "what happens to the domain's mail the filter marks as spam: delivered with a "
                                  "marked subject, delivered as it is (headers only), refused at SMTP time, or "
                                  "the provider's default ([milter] spam_action)"},
    "DomainSpam": {"type": "object", "required": ["domain", "spam"], "additionalProperties": False,
                   "properties": {"domain": {"type": "string"}, "spam": {"$ref": "#/components/schemas/SpamChoice"}}},
    "SetSpam": {"type": "object", "required": ["spam"], "additionalProperties": False,
                "properties": {"spam": {"$ref": "#/components/schemas/SpamChoice"}}},
    "NewDomain": {"type": "object", "required": ["account", "domain"], "additionalProperties": False,
                  "properties": {"account": {"type": "string"}, "domain": {"type": "string"},
                                 "dkim": {"type": "boolean", "description": "make DKIM keys now (default true)"}}},
    "Mailbox": {"type": "object", "required": ["address", "domain", "account"], "additionalProperties": False,
                "properties": {"address": {"type": "string"}, "domain": {"type": "string"},
                               "account": {"type": "string"},
                               # mailbox show only (docs/quotas.md, docs/vacation.md)
                               "quota": {"type": "object", "additionalProperties": False,
                                         "required": ["bytes", "messages", "account_default", "local", "used_bytes",
                                                      "used_messages", "percent"],
                                         "properties": {"bytes": {"type": "integer", "minimum": 0},
                                                        "messages": {"type": "integer", "minimum": 0},
                                                        "account_default": {"type": "boolean"},
                                                        "local": {"type": "boolean",
                                                                  "description": "the Maildir is on this node; "
                                                                                 "else the usage is null (read on "
                                                                                 "home_node)"},
                                                        "home_node": {"type": "integer"},
                                                        "used_bytes": nullable_int,
                                                        "used_messages": nullable_int,
                                                        "percent": nullable_int}},
                               "vacation": {"type": "boolean"}}},
    "NewMailbox": {"type": "object", "required": ["address", "password"], "additionalProperties": False,
                   "properties": {"address": {"type": "string"}, "password": {"type": "string"},
                                  "force": {"type": "boolean"}}},
    "Grant": {"type": "object", "required": ["ip", "account", "mailbox", "expires"], "additionalProperties": False,
              "properties": {"ip": {"type": "string"}, "account": {"type": "string"},
                             "mailbox": {"type": "string"}, "expires": time_str}},
    "Message": {"type": "object", "additionalProperties": False,
                "required": ["id", "arrival", "sender", "size", "client", "helo", "account", "held",
                             "hold_reason", "recipients"],
                "properties": {"id": {"type": "string"}, "arrival": time_str, "sender": {"type": "string"},
                               "held": {"type": "boolean", "description": "on hold: not delivered until released"},
                               "hold_reason": {"type": ["string", "null"]},
                               "size": {"type": "integer", "minimum": 0}, "client": {"type": "string"},
                               "helo": {"type": "string"}, "account": {"type": ["string", "null"]},
                               "recipients": {"type": "array", "items": {
                                   "type": "object", "additionalProperties": False,
                                   "required": ["address", "local", "state", "attempts"],
                                   "properties": {"address": {"type": "string"}, "local": {"type": "boolean"},
                                                  "state": {"enum": ["pending", "done", "failed", "unknown"]},
                                                  "attempts": {"type": "integer"}, "next_attempt": time_str,
                                                  "error": {"type": "string"}}}}}},
    "Dkim": {"type": "object", "required": ["domain", "selectors"], "additionalProperties": False,
             "description": "the domain's DKIM keys, public parts only (a private key never leaves the node)",
             "properties": {"domain": {"type": "string"}, "selectors": {"type": "array", "items": {
                 "type": "object", "additionalProperties": False,
                 "required": ["selector", "generation", "algorithm", "state", "created", "public_key"],
                 "properties": {"selector": {"type": "string", "pattern": "^hm[0-9]+-(rsa|ed25519)$"},
                                "generation": {"type": "integer", "minimum": 1},
                                "algorithm": {"enum": ["rsa-sha256", "ed25519-sha256"]},
                                "state": {"enum": ["pending", "active", "retired"]},
                                "created": time_str,
                                "public_key": {"type": "string", "pattern": "^[A-Za-z0-9+/=]+$",
                                               "description": "the p= value of the DNS record"}}}}}},
    "Hold": {"type": "object", "additionalProperties": False,
             "description": "the body is optional; without a reason: held by the mail administrator",
             "properties": {"reason": {"type": "string", "maxLength": 255}}},
    "Released": {"type": "object", "required": ["ok", "tried_now"], "additionalProperties": False,
                 "properties": {"ok": {"const": True},
                                "tried_now": {"type": "boolean",
                                              "description": "false: no hostmaild runs; tried when it starts"}}},
    "Activate": {"type": "object", "required": ["selector"], "additionalProperties": False,
                 "properties": {"selector": {"type": "string", "description": "hmN, hmN-rsa or hmN-ed25519"}}},
    "Dns": {"type": "object", "required": ["domain", "zone", "records"], "additionalProperties": False,
            "properties": {"domain": {"type": "string"},
                           "zone": {"type": "string", "description": "hostmailctl domain dns: zone-file lines, "
                                    "with the mail-program discovery SRV and CNAME records"},
                           "records": {"type": "array", "items": {
                               "type": "object", "additionalProperties": False,
                               "required": ["type", "name", "value", "what", "suggestion"],
                               "properties": {"type": {"enum": ["TXT", "MX"]}, "name": {"type": "string"},
                                              "value": {"type": "string",
                                                        "description": "TXT: the whole text, unsplit; MX: PREF host"},
                                              "what": {"type": "string"},
                                              "suggestion": {"type": "boolean",
                                                             "description": "SPF, DMARC: one good choice"}}}}}},
    "Alias": {"type": "object", "required": ["address", "domain", "account", "targets"], "additionalProperties": False,
              "description": "an address delivering to its targets (docs/routing.md)",
              "properties": {"address": {"type": "string"}, "domain": {"type": "string"},
                             "account": {"type": "string"},
                             "targets": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
    "AliasTargets": {"type": "object", "required": ["targets"], "additionalProperties": False,
                     "properties": {"targets": {"type": "array", "minItems": 1, "maxItems": 32,
                                                "items": {"type": "string"},
                                                "description": "addresses: hosted mailboxes, aliases or outside "
                                                               "addresses; the alias itself keeps a copy"}}},
    "Catchall": {"type": "object", "required": ["domain", "target"], "additionalProperties": False,
                 "properties": {"domain": {"type": "string"}, "target": {"type": ["string", "null"]}}},
    "CatchallTarget": {"type": "object", "required": ["target"], "additionalProperties": False,
                       "properties": {"target": {"type": ["string", "null"], "description": "null: none"}}},
    "Contact": {"type": "object", "required": ["account", "address", "default"], "additionalProperties": False,
                "description": "where postmaster@ and abuse@ of the account's domains go",
                "properties": {"account": {"type": "string"}, "address": {"type": ["string", "null"]},
                               "default": {"type": "boolean", "description": "the account's first mailbox"}}},
    "ContactAddress": {"type": "object", "required": ["address"], "additionalProperties": False,
                       "properties": {"address": {"type": ["string", "null"],
                                                  "description": "null: back to the first mailbox"}}},
    "Quota": {"type": "object", "required": ["bytes"], "additionalProperties": False,
              "description": "a mailbox's own limits (hostmailctl mailbox quota); absent messages: unchanged",
              "properties": {"bytes": quota_value, "messages": quota_value}},
    "Vacation": {"type": "object", "required": ["address", "enabled", "subject", "text", "start", "end"],
                 "additionalProperties": False,
                 "properties": {"address": {"type": "string"}, "enabled": {"type": "boolean"},
                                "subject": {"type": "string", "description": "\"\": Auto: and the original's"},
                                "text": {"type": "string"},
                                "start": date_or_null, "end": date_or_null}},
    "VacationChange": {"type": "object", "required": ["enabled"], "additionalProperties": False,
                       "description": "hostmailctl mailbox vacation ADDRESS on|off: members absent are unchanged",
                       "properties": {"enabled": {"type": "boolean"},
                                      "subject": {"type": "string", "maxLength": 255},
                                      "text": {"type": "string", "maxLength": 8191,
                                               "description": "needed to turn it on"},
                                      "start": {"type": ["string", "null"], "description": "YYYY-MM-DD (UTC), "
                                                "the first day; null: none"},
                                      "end": {"type": ["string", "null"], "description": "the last day; null: none"}}},
    "Node": {"type": "object", "additionalProperties": False,
             "required": ["number", "state", "lmtp", "pop3", "imap", "accounts", "mailboxes"],
             "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 99999},
                            "state": {"enum": ["active", "draining"]},
                            "lmtp": {"type": "string"}, "pop3": {"type": "string"},
                            "imap": {"type": "string", "description": "\"\": none"},
                            "accounts": {"type": "integer", "minimum": 0},
                            "mailboxes": {"type": "integer", "minimum": 0}}},
    "NewNode": {"type": "object", "required": ["number", "lmtp", "pop3"], "additionalProperties": False,
                "properties": {"number": {"type": "integer", "minimum": 1, "maximum": 99999},
                               "lmtp": {"type": "string", "description": "HOST:PORT of its [listen] lmtp"},
                               "pop3": {"type": "string", "description": "HOST:PORT of its POP3 listener"},
                               "imap": {"type": ["string", "null"], "description": "HOST:PORT of its IMAP"}}},
    "Move": {"type": "object", "required": ["account", "from_node", "to_node", "switched", "started"],
             "additionalProperties": False,
             "properties": {"account": {"type": "string"}, "from_node": {"type": "integer"},
                            "to_node": {"type": "integer"},
                            "switched": {"type": "boolean", "description": "the account's home is to_node now"},
                            "started": time_str}},
    "Flushed": {"type": "object", "required": ["ok", "messages"], "additionalProperties": False,
                "properties": {"ok": {"const": True}, "messages": {"type": "integer", "minimum": 0}}},
}


def arr(name):
    return {"type": "array", "items": ref(name)}


paths = {
    "/api/openapi.json": {"get": {"summary": "this document (no token needed)",
                                  "responses": {"200": {"description": "OpenAPI 3.1",
                                                        "content": {"application/json": {"schema": {"type": "object"}}}}},
                                  "security": []}},
    "/api/accounts": {
        "get": op("account list", ok(arr("Account"))),
        "post": op("account add", {**ok(ref("Account"), "201", "created"), **errors(400, 409)},
                   request=ref("NewAccount"), read=False)},
    "/api/accounts/{name}": {
        "get": op("account show", {**ok(ref("AccountDetail")), **errors(404)}, params=NAME),
        "delete": op("account remove (its domains and mailboxes too; Maildirs stay)", {**OK, **errors(404)},
                     params=NAME, read=False)},
    "/api/accounts/{name}/limits": {
        "put": op("account limits", {**ok(ref("AccountDetail")), **errors(400, 404)}, request=ref("Limits"),
                  params=NAME, read=False)},
    "/api/accounts/{name}/suspend": {
        "post": op("account suspend", {**ok(ref("AccountDetail")), **errors(404)}, params=NAME, read=False)},
    "/api/accounts/{name}/resume": {
        "post": op("account resume", {**ok(ref("AccountDetail")), **errors(404)}, params=NAME, read=False)},
    "/api/accounts/{name}/password": {
        "put": op("account passwd (the ACC login)", {**OK, **errors(400, 404)}, request=ref("Password"),
                  params=NAME, read=False)},
    "/api/accounts/{name}/logout": {
        "post": op("account logout", {**ok(ref("Sessions")), **errors(404)}, params=NAME, read=False)},
    "/api/domains": {
        "get": op("domain list", {**ok(arr("Domain")), **errors(400, 404)},
                  params=[query_param("account", "only this account's")]),
        "post": op("domain add", {**ok(ref("Domain"), "201", "created"), **errors(400, 409)},
                   request=ref("NewDomain"), read=False)},
    "/api/domains/{domain}": {
        "delete": op("domain remove", {**OK, **errors(404)}, params=DOMAIN, read=False)},
    "/api/domains/{domain}/dkim": {
        "get": op("domain dkim: the selectors and their state (makes no keys)", {**ok(ref("Dkim")), **errors(404)},
                  params=DOMAIN)},
    "/api/domains/{domain}/dkim/rotate": {
        "post": op("domain dkim --rotate: a new generation, pending (active if the domain has none)",
                   {**ok(ref("Dkim")), **errors(404, 409)}, params=DOMAIN, read=False)},
    "/api/domains/{domain}/dkim/activate": {
        "post": op("domain dkim --activate SELECTOR: sign with the pending generation, retire the active one",
                   {**ok(ref("Dkim")), **errors(400, 404)}, request=ref("Activate"), params=DOMAIN, read=False)},
    "/api/domains/{domain}/dns": {
        "get": op("domain dns: the records to publish", {**ok(ref("Dns")), **errors(404)}, params=DOMAIN)},
    "/api/domains/{domain}/spam": {
        "get": op("domain spam: the domain's spam choice", {**ok(ref("DomainSpam")), **errors(404)}, params=DOMAIN),
        "put": op("domain spam DOMAIN CHOICE", {**ok(ref("DomainSpam")), **errors(400, 404)}, params=DOMAIN,
                  request=ref("SetSpam"), read=False)},
    "/api/mailboxes": {
        "get": op("mailbox list", {**ok(arr("Mailbox")), **errors(400, 404)},
                  params=[query_param("domain", "only this domain's")]),
        "post": op("mailbox add (makes the Maildir)", {**ok(ref("Mailbox"), "201", "created"), **errors(400, 409)},
                   request=ref("NewMailbox"), read=False)},
    "/api/mailboxes/{address}": {
        "get": op("mailbox show", {**ok(ref("Mailbox")), **errors(404)}, params=ADDRESS),
        "delete": op("mailbox remove (the Maildir stays)", {**OK, **errors(404)}, params=ADDRESS, read=False)},
    "/api/mailboxes/{address}/password": {
        "put": op("mailbox passwd", {**OK, **errors(400, 404)}, request=ref("Password"), params=ADDRESS,
                  read=False)},
    "/api/relay": {"get": op("relay list: POP-before-SMTP grants in force", ok(arr("Grant")))},
    "/api/relay/{ip}": {"delete": op("relay revoke", {**OK, **errors(400, 404)}, params=IP, read=False)},
    "/api/queue": {"get": op("queue list", ok(arr("Message")))},
    "/api/queue/flush": {"post": op("queue flush: try every message now", {**ok(ref("Flushed")), **errors(503)},
                                    read=False)},
    "/api/queue/{id}": {
        "get": op("queue show", {**ok(ref("Message")), **errors(404)}, params=ID),
        "delete": op("queue delete", {**OK, **errors(404, 503)}, params=ID, read=False)},
    "/api/queue/{id}/flush": {"post": op("queue flush ID", {**ok(ref("Flushed")), **errors(404, 503)},
                                         params=ID, read=False)},
    "/api/queue/{id}/bounce": {"post": op("queue bounce", {**OK, **errors(404, 503)}, params=ID, read=False)},
    "/api/aliases": {
        "get": op("alias list", {**ok(arr("Alias")), **errors(400, 404)},
                  params=[query_param("domain", "only this domain's")])},
    "/api/aliases/{address}": {
        "get": op("alias show", {**ok(ref("Alias")), **errors(404)}, params=ADDRESS),
        "put": op("alias add: create or replace", {**ok(ref("Alias")), **errors(400, 404)},
                  request=ref("AliasTargets"), params=ADDRESS, read=False),
        "delete": op("alias remove", {**OK, **errors(404)}, params=ADDRESS, read=False)},
    "/api/domains/{domain}/catchall": {
        "get": op("domain catchall DOMAIN", {**ok(ref("Catchall")), **errors(404)}, params=DOMAIN),
        "put": op("domain catchall DOMAIN TARGET|off", {**ok(ref("Catchall")), **errors(400, 404)},
                  request=ref("CatchallTarget"), params=DOMAIN, read=False)},
    "/api/accounts/{name}/contact": {
        "get": op("account contact NAME", {**ok(ref("Contact")), **errors(404)}, params=NAME),
        "put": op("account contact NAME ADDRESS|default", {**ok(ref("Contact")), **errors(400, 404)},
                  request=ref("ContactAddress"), params=NAME, read=False)},
    "/api/queue/{id}/hold": {"post": optional_body(op("queue hold: keep the message, undelivered, until released",
                                                      {**OK, **errors(400, 404)}, params=ID, read=False,
                                                      request=ref("Hold")))},
    "/api/queue/{id}/release": {"post": op("queue release: deliver a held message now",
                                           {**ok(ref("Released")), **errors(404, 409)}, params=ID, read=False)},
    "/api/mailboxes/{address}/quota": {
        "put": op("mailbox quota ADDRESS SIZE|default [--messages N|default]", {**ok(ref("Mailbox")),
                  **errors(400, 404)}, request=ref("Quota"), params=ADDRESS, read=False)},
    "/api/mailboxes/{address}/vacation": {
        "get": op("mailbox vacation ADDRESS show", {**ok(ref("Vacation")), **errors(404)}, params=ADDRESS),
        "put": op("mailbox vacation ADDRESS on|off [--subject] [--text] [--start] [--end]",
                  {**ok(ref("Vacation")), **errors(400, 404)}, request=ref("VacationChange"), params=ADDRESS,
                  read=False),
        "delete": op("mailbox vacation ADDRESS off (the text and dates are kept)", {**ok(ref("Vacation")),
                     **errors(404)}, params=ADDRESS, read=False)},
    "/api/nodes": {
        "get": op("node list", ok(arr("Node"))),
        "post": op("node add", {**ok(ref("Node"), "201", "created"), **errors(400, 409)}, request=ref("NewNode"),
                   read=False)},
    "/api/nodes/{n}": {
        "delete": op("node remove (refused, 409, while accounts live there)", {**OK, **errors(400, 404, 409)},
                     params=NODE, read=False)},
    "/api/nodes/{n}/drain": {
        "post": op("node drain: no new accounts", {**ok(ref("Node")), **errors(400, 404)}, params=NODE, read=False)},
    "/api/nodes/{n}/activate": {
        "post": op("node activate: new accounts again", {**ok(ref("Node")), **errors(400, 404)}, params=NODE,
                   read=False)},
    "/api/moves": {"get": op("account moves under way (a move itself is hostmailctl account move, on the old home)",
                             ok(arr("Move")))},
}

doc = {
    "openapi": "3.1.0",
    "info": {"title": "hostmail admin API", "version": "1",
             "description": "The provider's control panel's interface to hostmail: the verbs of hostmailctl "
                            "as JSON resources. docs/admin-api.md."},
    "security": [{"bearer": []}],
    "paths": paths,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "a token from `hostmailctl token add NAME`"}},
        "schemas": schemas,
        "responses": {"Error": {"description": "refused: error says why, field names the member at fault",
                                "content": {"application/json": {"schema": ref("Error")}}}},
    },
}

here = os.path.dirname(os.path.abspath(__file__))
text = json.dumps(doc, indent=1, sort_keys=False) + "\n"
with open(os.path.join(here, "..", "src", "admin", "openapi.json"), "w") as f:
    f.write(text)
lines = ["/*", " * admin_openapi: /api/openapi.json, generated by scripts/gen_openapi.py", " * from its description there (src/admin/openapi.json is the same text).", " */",
         '#include "admin/admin_int.h"', "", "const char admin_openapi_json[] ="]
for line in text.splitlines():
    lines.append("\t" + json.dumps(line + "\n"))
lines[-1] += ";"
with open(os.path.join(here, "..", "src", "admin", "admin_openapi.c"), "w") as f:
    f.write("\n".join(lines) + "\n")
