/* For tests of text formats under a locale whose decimal point is not '.'
 * (a program that called setlocale(LC_ALL, "de_DE.UTF-8")). */
#ifndef FER_TEST_COMMA_LOCALE_H
#define FER_TEST_COMMA_LOCALE_H

#include <locale.h>
#include <string.h>

/* Switches the whole process to the first installed locale whose decimal
 * point is not '.' and returns its name, or returns NULL (leaving the
 * locale as it was) when `locale -a` lists none. Tests then SKIP, saying
 * so. To run them on a machine without one:
 *   localedef -i de_DE -f UTF-8 /tmp/locales/de_DE.UTF-8
 *   LOCPATH=/tmp/locales meson test -C build <test> */
static inline const char *comma_locale(void) {
  static const char *const names[] = {
      "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8", "ru_RU.UTF-8",
      "es_ES.UTF-8", "it_IT.UTF-8", "pt_BR.UTF-8", "de_DE", "fr_FR", "de_DE.ISO-8859-1"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ".") != 0)
      return names[i];
  setlocale(LC_ALL, "C");
  return NULL;
}

#endif
