/* The files of the web pages, compiled into the binary at build time
 * (web/embed.cmake): the live map's page and script, the report pages' script,
 * Leaflet, uPlot, topojson-client and Natural Earth's countries (world-atlas). */
#ifndef SKY_WEB_ASSETS_H
#define SKY_WEB_ASSETS_H

#include <stddef.h>

typedef struct sky_web_asset {
    const char *name; /* "leaflet.js", "countries-50m.json", "map.html", ... */
    const char *mime; /* Content-Type */
    const unsigned char *data; /* NUL-terminated past size, so text is a C string */
    size_t size;
} sky_web_asset_t;

/* Ends with an entry whose name is NULL. */
extern const sky_web_asset_t sky_web_assets[];

/* The asset called name, or NULL. */
const sky_web_asset_t *sky_web_asset(const char *name);

#endif
