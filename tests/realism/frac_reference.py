"""Reference shares of time in climb, cruise and descent for a route length, from openap's
own trajectory generator (FlightGenerator, random=True): a climb to an initial cruise level
(WRAP's cr_h_init) and a descent from it generated for the type, and the cruise that fills
the route between them at a Mach from WRAP's cruise distribution. The generator draws each parameter uniformly between WRAP's published minimum
and maximum; here each draw comes from the WRAP distribution that has that minimum and
maximum instead (WRAP's fitted model, as the simulator uses), so the reference differs from
the simulator in its kinematics, not in how the parameters spread."""
import numpy as np
from openap import FlightGenerator, WRAP, aero

NM = 1852.0
REF_FLIGHTS = 300


class WrapRng:
    """Stands in for the generator's numpy Generator: uniform(min, max) of a WRAP variable
    becomes a draw from that variable's fitted distribution."""

    def __init__(self, model, seed):
        import sys
        import os
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from realism import wrap_dist
        w = WRAP(model)
        self.rng = np.random.default_rng(seed)
        self.by_range = {}
        for var in w.df["variable"]:
            v = w._get_var(var)
            self.by_range[(float(v["minimum"]), float(v["maximum"]))] = wrap_dist(w, var)

    def uniform(self, lo, hi):
        d = self.by_range.get((float(lo), float(hi)))
        if d is None:
            return self.rng.uniform(lo, hi)
        return float(d.ppf(self.rng.uniform(0.002, 0.998)))

    def normal(self, *a):
        return self.rng.normal(*a)


def one(gen, w):
    """A generated climb and descent: their times (s) and distances (m), and a cruise TAS."""
    # the climb ends at the initial cruise level, as the realism test measures it
    h = w.cruise_init_alt()
    alt_cr = gen.rng.uniform(h["minimum"], h["maximum"]) * 1000 / aero.ft
    cl = gen.climb(dt=10, random=True, alt_cr=alt_cr)
    de = gen.descent(dt=10, random=True, alt_cr=alt_cr)
    air = cl[cl.seg != "TO"]
    top = air.index[air.seg == "CR"][0]
    start = de.index[de.seg != "CR"][0]
    end = de.index[de.seg == "LD"][0]
    m = w.cruise_mach()
    mach = gen.rng.uniform(m["minimum"], m["maximum"])
    return (cl.t[top] - air.t.iloc[0], cl.s[top] - air.s.iloc[0], de.t[end] - de.t[start],
            de.s[end] - de.s[start], aero.mach2tas(mach, alt_cr * aero.ft))


def generate(model, n, seed=1):
    gen = FlightGenerator(ac=model, random_seed=seed, use_synonym=True)
    gen.rng = WrapRng(model, seed)
    w = WRAP(model)
    return np.array([one(gen, w) for _ in range(n)])


def reference(model, dists_nm, seed=1):
    """Shares for the cached generated flights of the model (reference/<model>.csv, made by
    make-reference.py), each on a route length drawn from dists_nm (the simulated flights'
    lengths); None when the model has no cache."""
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference",
                        f"{model}.csv")
    if not os.path.exists(path):
        return None
    ref = np.loadtxt(path, delimiter=",", skiprows=1)
    rng = np.random.default_rng(seed)
    d = rng.choice(np.asarray(dists_nm), size=len(ref), replace=True) * NM
    t_cl, s_cl, t_de, s_de, v = ref.T
    s_cr = d - s_cl - s_de
    ok = s_cr > 0
    t_cr = s_cr[ok] / v[ok]
    total = t_cl[ok] + t_cr + t_de[ok]
    return np.stack([t_cl[ok] / total, t_cr / total, t_de[ok] / total], axis=1)
