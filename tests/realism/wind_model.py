"""The simulator's wind (simulator/wind.c), for the realism test: the same formula, so the
test can take the wind out of the reported ground speed and compare true airspeed and Mach
with WRAP's."""
import math

M64 = (1 << 64) - 1
JET_KT = 55.0
JET_WIDTH_DEG = 13.0
JET_FT = 34000.0


def mix(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def unit(z):
    return (z >> 11) * 2.0 ** -53


def jet(seed, lat, lon):
    s = mix((seed ^ 0x57494E44) & M64)
    psi_n, psi_s = 2 * math.pi * unit(s), 2 * math.pi * unit(mix((s + 1) & M64))
    strength = 0.7 + 0.6 * unit(mix((s + 2) & M64))
    l = math.radians(lon)
    axis_n = 42.0 + 9.0 * math.sin(4 * l + psi_n)
    axis_s = -(46.0 + 6.0 * math.sin(3 * l + psi_s))
    gn = math.exp(-((lat - axis_n) / JET_WIDTH_DEG) ** 2)
    gs = math.exp(-((lat - axis_s) / JET_WIDTH_DEG) ** 2)
    un = JET_KT * strength * (1.0 + 0.35 * math.cos(4 * l + psi_n + 1.0)) * gn
    us = JET_KT * strength * (1.0 + 0.35 * math.cos(3 * l + psi_s + 2.0)) * gs
    tropics = -12.0 * math.exp(-(lat / 15.0) ** 2)
    return un + us + tropics, un * 0.6 * math.cos(4 * l + psi_n) - us * 0.4 * math.cos(3 * l + psi_s)


def height_factor(h):
    if h <= 0:
        return 0.0
    if h <= JET_FT:
        return h / JET_FT
    return max(1.0 - (h - JET_FT) / 40000.0, 0.5)


def unitvec(lat, lon):
    p, l = math.radians(lat), math.radians(lon)
    return (math.cos(p) * math.cos(l), math.cos(p) * math.sin(l), math.sin(p))


def route_jet(seed, dep, arr):
    a, b = unitvec(*dep), unitvec(*arr)
    m = [a[i] + b[i] for i in range(3)]
    mn = math.sqrt(sum(x * x for x in m))
    if mn < 1e-9:
        return 0.0, 0.0
    m = [x / mn for x in m]
    d = [b[i] - a[i] for i in range(3)]
    dm = sum(d[i] * m[i] for i in range(3))
    d = [d[i] - dm * m[i] for i in range(3)]
    dn = math.sqrt(sum(x * x for x in d))
    if dn < 1e-12:
        return 0.0, 0.0
    d = [x / dn for x in d]
    lat = math.asin(max(-1.0, min(1.0, m[2])))
    lon = math.atan2(m[1], m[0])
    u, v = jet(seed, math.degrees(lat), math.degrees(lon))
    e = (-math.sin(lon), math.cos(lon), 0.0)
    n = (-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat))
    w = [u * e[i] + v * n[i] for i in range(3)]
    al = sum(w[i] * d[i] for i in range(3))
    c = [w[i] - al * d[i] for i in range(3)]
    return al, math.sqrt(sum(x * x for x in c))


def route_wind(seed, dep, arr):
    """(lat, lon) pairs -> function of altitude (ft) giving (along kt, cross kt)."""
    al, cr = route_jet(seed, dep, arr)

    def at(h):
        f = height_factor(h)
        return al * f, cr * f
    return at
