/* Catalogue: the subject report a worker receives. */
#include "common/fg_i18n_tables.h"

const struct fg_msg fg_msgs_subject[] = {
    {0, {0, 0, 0}},
};
