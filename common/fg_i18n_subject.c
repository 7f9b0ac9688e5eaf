/* Catalogue: the subject report a worker receives. */
#include "common/fg_i18n_tables.h"

const struct fg_msg fg_msgs_subject[] = {
    {"sr.title",
     {"What left the site about you", "Wat er over u de locatie heeft verlaten",
      "Was über Sie den Standort verlassen hat"}},
    {"sr.made",
     {"Made on %s with the works council's key.",
      "Gemaakt op %s met de sleutel van de ondernemingsraad.",
      "Erstellt am %s mit dem Schlüssel des Betriebsrats."}},
    {"sr.intro",
     {"Outside the site you never appear under your name, only under a pseudonym: a code that "
      "changes every period and differs per route. Below are, per period, your pseudonym and "
      "every batch of messages of that route sent while it was in use.",
      "Buiten de locatie staat u nooit met uw naam, alleen met een pseudoniem: een code die "
      "elke periode wisselt en per route verschilt. Hieronder staan per periode uw pseudoniem "
      "en elke reeks berichten van die route die is verstuurd terwijl het in gebruik was.",
      "Außerhalb des Standorts erscheinen Sie nie mit Ihrem Namen, nur mit einem Pseudonym: "
      "einem Code, der in jedem Zeitraum wechselt und je Route verschieden ist. Unten stehen "
      "je Zeitraum Ihr Pseudonym und jedes Nachrichtenpaket dieser Route, das versandt wurde, "
      "solange es galt."}},
    {"sr.none",
     {"No pseudonym of yours was found in any period that is still kept: either nothing about "
      "you was forwarded, or it can no longer be linked to you by anyone.",
      "In geen enkele bewaarde periode is een pseudoniem van u gevonden: er is niets over u "
      "doorgestuurd, of het is door niemand meer aan u te koppelen.",
      "In keinem noch aufbewahrten Zeitraum wurde ein Pseudonym von Ihnen gefunden: Entweder "
      "wurde nichts über Sie weitergeleitet, oder es lässt sich von niemandem mehr Ihnen "
      "zuordnen."}},
    {"sr.period",
     {"Route %s, from %s to %s", "Route %s, van %s tot %s", "Route %s, von %s bis %s"}},
    {"sr.pseudonym",
     {"Your pseudonym in this period (a code, not your name): %s",
      "Uw pseudoniem in deze periode (een code, niet uw naam): %s",
      "Ihr Pseudonym in diesem Zeitraum (ein Code, nicht Ihr Name): %s"}},
    {"sr.flow",
     {"%s to %s: %s messages to %s, for \"%s\" (%s)",
      "%s tot %s: %s berichten naar %s, voor \"%s\" (%s)",
      "%s bis %s: %s Nachrichten an %s, für \"%s\" (%s)"}},
    {"sr.flow.what", {"for \"%s\": %s", "voor \"%s\": %s", "für \"%s\": %s"}},
    {"sr.noflow",
     {"No message of this route was sent while this pseudonym was in use.",
      "Er is geen bericht van deze route verstuurd terwijl dit pseudoniem in gebruik was.",
      "Solange dieses Pseudonym galt, wurde keine Nachricht dieser Route versandt."}},
    {"sr.col.when", {"when (UTC)", "wanneer (UTC)", "wann (UTC)"}},
    {"sr.col.where", {"sent to", "verstuurd naar", "versandt an"}},
    {"sr.col.what",
     {"purpose and kind of data", "doel en soort gegevens", "Zweck und Art der Daten"}},
    {"sr.reid",
     {"On %s %s asked who was behind this pseudonym. Reason given: \"%s\". Outcome: %s.",
      "Op %s vroeg %s wie er achter dit pseudoniem zat. Opgegeven reden: \"%s\". Uitkomst: %s.",
      "Am %s wollte %s wissen, wer hinter diesem Pseudonym steht. Angegebener Grund: \"%s\". "
      "Ergebnis: %s."}},
    {"sr.bounds.upper",
     {"This is an upper bound. Each batch counts every message of the route while your "
      "pseudonym was in use, including messages about colleagues and totals in which you were "
      "one of many; it does not mean that every message was about you.",
      "Dit is een bovengrens. Elke reeks telt alle berichten van de route terwijl uw pseudoniem "
      "in gebruik was, ook berichten over collega's en totalen waarin u een van velen was; het "
      "betekent niet dat elk bericht over u ging.",
      "Dies ist eine Obergrenze. Jedes Paket zählt alle Nachrichten der Route, solange Ihr "
      "Pseudonym galt, auch Nachrichten über Kolleginnen und Kollegen und Summen, in denen Sie "
      "einer von vielen waren; nicht jede Nachricht betraf Sie."}},
    {"sr.bounds.kept",
     {"Only periods whose keys are still kept are listed. The keys are destroyed %s after each "
      "period (keep_keys): from then on nobody, not the employer and not the works council, "
      "can link those pseudonyms to you, and no report can show those periods any more.",
      "Alleen perioden waarvan de sleutels nog bewaard worden, staan hier. De sleutels worden "
      "%s na elke periode vernietigd (keep_keys): vanaf dan kan niemand, ook de werkgever en de "
      "ondernemingsraad niet, die pseudoniemen aan u koppelen, en kan geen overzicht die "
      "perioden nog tonen.",
      "Aufgeführt sind nur Zeiträume, deren Schlüssel noch aufbewahrt werden. Die Schlüssel "
      "werden %s nach jedem Zeitraum vernichtet (keep_keys): Danach kann niemand, weder der "
      "Arbeitgeber noch der Betriebsrat, diese Pseudonyme Ihnen zuordnen, und keine Auskunft "
      "kann diese Zeiträume mehr zeigen."}},
    {"sr.bounds.contest",
     {"If something here is wrong or was not agreed, tell the works council: they can check it "
      "against the audit log.",
      "Klopt er iets niet, of is iets niet zo afgesproken, meld het dan bij de "
      "ondernemingsraad: die kan het nagaan in het auditlogboek.",
      "Wenn hier etwas nicht stimmt oder nicht vereinbart war, wenden Sie sich an den "
      "Betriebsrat: Er kann es im Prüfprotokoll nachprüfen."}},
    {0, {0, 0, 0}},
};
