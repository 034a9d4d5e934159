/*
 * fer: the command-line front end of libfer. main() only dispatches to a
 * subcommand; each subcommand lives in its own cmd_<name>.c file.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int cmd_version(int argc, char **argv) {
  if (argc > 1 && cli_is_help(argv[1])) {
    printf("usage: fer version\n\nPrints the libfer version.\n");
    return 0;
  }
  printf("fer %s (libfer %s, OpenMP %s)\n", fer_version(), fer_version(),
         fer_has_openmp() ? "on" : "off");
  return 0;
}

static const cli_command commands[] = {
  {"version", "print the library version", cmd_version},
  CLI_COMMANDS_EXTRA
};

static void usage(FILE *out) {
  fprintf(out, "usage: fer COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'fer COMMAND --help' for the options of a command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (cli_is_help(argv[1])) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "fer: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}
