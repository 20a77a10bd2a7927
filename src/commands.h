/* One entry point per src/cmd_<name>.c: argv[0] is the command name. */
#ifndef SKY_COMMANDS_H
#define SKY_COMMANDS_H

int cmd_simulate(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_geofence(int argc, char **argv);

#endif
