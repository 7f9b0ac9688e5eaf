/* Private to common/fg_i18n*.c: the catalogue's tables, one per area, each
 * ending with an entry whose key is NULL. */
#ifndef FG_I18N_TABLES_H
#define FG_I18N_TABLES_H

#include "common/fg_i18n.h"

extern const struct fg_msg fg_msgs_common[];
extern const struct fg_msg fg_msgs_report[];
extern const struct fg_msg fg_msgs_events[];
extern const struct fg_msg fg_msgs_explain[];
extern const struct fg_msg fg_msgs_subject[];

#endif
