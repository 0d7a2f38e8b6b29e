/*
 * xml: escaping text for XML character data and attribute values
 * (& < > " ' as entities), and refusing what XML 1.0 cannot carry at all
 * (control characters other than tab, CR, LF). Pure.
 */
#ifndef HM_XML_H
#define HM_XML_H
#include "util/buf.h"

/* Append s escaped; -1 if b is full or s holds a character XML forbids. */
int xml_escape(struct buf *b, const char *s);
/* "<name>escaped text</name>"; -1 as xml_escape. */
int xml_element(struct buf *b, const char *name, const char *text);

#endif
