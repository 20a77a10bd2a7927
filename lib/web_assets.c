/* Lookup in the generated asset table. */
#include "web_assets.h"

#include <string.h>

const sky_web_asset_t *sky_web_asset(const char *name) {
    for (const sky_web_asset_t *a = sky_web_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}
