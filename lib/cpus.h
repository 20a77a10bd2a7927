/* How many CPUs this process may run on. */
#ifndef SKY_CPUS_H
#define SKY_CPUS_H

/* The CPUs in the process's affinity mask (so `taskset -c 0 skyload ...` counts 1), or
 * the online CPUs when the mask cannot be read; at least 1. Extra threads only pay on
 * more than one: on one CPU a helper thread is pure hand-over cost. */
int sky_cpus_usable(void);

#endif
