/* Catalogue: policy explain and policy diff. */
#include "common/fg_i18n_tables.h"

const struct fg_msg fg_msgs_explain[] = {
    {0, {0, 0, 0}},
};
