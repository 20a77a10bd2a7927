/* sky_capacity_html CAPACITY.json OUT.html: renders the capacity page from a
 * result `skyload bench capacity` wrote (for the browser test of the page). */
#include "report_html.h"

#include <jansson.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: sky_capacity_html CAPACITY.json OUT.html\n");
        return 2;
    }
    json_error_t jerr;
    json_t *j = json_load_file(argv[1], 0, &jerr);
    if (!j) {
        fprintf(stderr, "%s:%d: %s\n", argv[1], jerr.line, jerr.text);
        return 2;
    }
    char err[512];
    int rc = sky_capacity_write_html(j, argv[2], err, sizeof err);
    json_decref(j);
    if (rc) {
        fprintf(stderr, "sky_capacity_html: %s\n", err);
        return 3;
    }
    return 0;
}
