"""Writes N OpenSky state-vector rows (5,000 aircraft every 10 s, random positions) to stdout."""
import random
import sys

n = int(sys.argv[1])
random.seed(1)
out = sys.stdout
out.write("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
          "baroaltitude,geoaltitude,lastposupdate,lastcontact\n")
aircraft = [("%06x" % random.randrange(1 << 24), "TST%d" % i) for i in range(5000)]
t, written = 1795600800, 0
while written < n:
    for icao, cs in aircraft:
        if written == n:
            break
        out.write(f"{t},{icao},{random.uniform(-60, 60):.4f},{random.uniform(-170, 170):.4f},"
                  f"{random.uniform(100, 250):.2f},{random.uniform(0, 360):.1f},0.0,{cs:<8},"
                  f"False,False,False,1000,{random.uniform(1000, 11000):.2f},"
                  f"{random.uniform(1000, 11000):.2f},{t - 0.5},{t}.0\n")
        written += 1
    t += 10
