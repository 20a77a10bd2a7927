# The web pages' files, embedded in libskyload (included by CMakeLists.txt).
#
# npm ci installs the exact packages of web/package-lock.json into the build
# directory (never the source tree); web/embed.cmake then turns the files below
# into ${SKY_WEB_BUILD}/web_assets_data.c. playwright-core (a devDependency) lands
# there too, for the browser tests (tests/e2e/browser/).
find_program(SKY_NPM npm)
if(NOT SKY_NPM)
  message(FATAL_ERROR "npm not found: the map and report pages embed Leaflet, uPlot and "
    "Natural Earth's coastlines, installed at build time with 'npm ci' from "
    "web/package-lock.json. Install Node.js and npm (.ci/install-deps does).")
endif()

set(SKY_WEB_BUILD ${CMAKE_BINARY_DIR}/web)
set(SKY_WEB_MODULES ${SKY_WEB_BUILD}/node_modules)
file(MAKE_DIRECTORY ${SKY_WEB_BUILD})

add_custom_command(
  OUTPUT ${SKY_WEB_BUILD}/npm-ci.stamp
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/web/package.json
          ${CMAKE_SOURCE_DIR}/web/package-lock.json ${SKY_WEB_BUILD}/
  COMMAND ${SKY_NPM} ci --no-audit --no-fund --loglevel=error
  COMMAND ${CMAKE_COMMAND} -E touch ${SKY_WEB_BUILD}/npm-ci.stamp
  WORKING_DIRECTORY ${SKY_WEB_BUILD}
  DEPENDS ${CMAKE_SOURCE_DIR}/web/package.json ${CMAKE_SOURCE_DIR}/web/package-lock.json
  COMMENT "npm ci: Leaflet, world-atlas, topojson-client, uPlot (+ playwright-core for tests)")

# name  file  Content-Type
set(SKY_WEB_ASSETS
  "leaflet.js ${SKY_WEB_MODULES}/leaflet/dist/leaflet.js text/javascript"
  "leaflet.css ${SKY_WEB_MODULES}/leaflet/dist/leaflet.css text/css"
  "topojson-client.js ${SKY_WEB_MODULES}/topojson-client/dist/topojson-client.min.js text/javascript"
  "countries-50m.json ${SKY_WEB_MODULES}/world-atlas/countries-50m.json application/json"
  "countries-110m.json ${SKY_WEB_MODULES}/world-atlas/countries-110m.json application/json"
  "uplot.js ${SKY_WEB_MODULES}/uplot/dist/uPlot.iife.min.js text/javascript"
  "uplot.css ${SKY_WEB_MODULES}/uplot/dist/uPlot.min.css text/css"
  "map.html ${CMAKE_SOURCE_DIR}/web/map.html text/html"
  "map.js ${CMAKE_SOURCE_DIR}/web/map.js text/javascript"
  "map.css ${CMAKE_SOURCE_DIR}/web/map.css text/css"
  "world.js ${CMAKE_SOURCE_DIR}/web/world.js text/javascript"
  "report.js ${CMAKE_SOURCE_DIR}/web/report.js text/javascript"
  "report.css ${CMAKE_SOURCE_DIR}/web/report.css text/css")
set(SKY_WEB_DEPENDS ${SKY_WEB_BUILD}/npm-ci.stamp ${CMAKE_SOURCE_DIR}/web/embed.cmake)
set(list_text "")
foreach(entry ${SKY_WEB_ASSETS})
  string(APPEND list_text "${entry}\n")
  separate_arguments(parts UNIX_COMMAND "${entry}")
  list(GET parts 1 path)
  # the npm files come with the stamp; the page sources are dependencies themselves
  string(FIND "${path}" "${SKY_WEB_MODULES}/" in_modules)
  if(NOT in_modules EQUAL 0)
    list(APPEND SKY_WEB_DEPENDS ${path})
  endif()
endforeach()
file(WRITE ${SKY_WEB_BUILD}/assets.list.in "${list_text}")
configure_file(${SKY_WEB_BUILD}/assets.list.in ${SKY_WEB_BUILD}/assets.list COPYONLY)
list(APPEND SKY_WEB_DEPENDS ${SKY_WEB_BUILD}/assets.list)

add_custom_command(
  OUTPUT ${SKY_WEB_BUILD}/web_assets_data.c
  COMMAND ${CMAKE_COMMAND} -DLIST=${SKY_WEB_BUILD}/assets.list
          -DOUT=${SKY_WEB_BUILD}/web_assets_data.c -P ${CMAKE_SOURCE_DIR}/web/embed.cmake
  DEPENDS ${SKY_WEB_DEPENDS}
  COMMENT "embedding the web assets")
set(SKY_WEB_SOURCES ${SKY_WEB_BUILD}/web_assets_data.c)
