/* Catalogue: audit events in words (the event list of the audit report). */
#include "common/fg_i18n_tables.h"

const struct fg_msg fg_msgs_events[] = {
    {"actor.gateway", {"the gateway", "de gateway", "das Gateway"}},
    {"actor.works-council", {"the works council", "de ondernemingsraad", "der Betriebsrat"}},
    {"actor.employer", {"the employer", "de werkgever", "der Arbeitgeber"}},
    {"actor.operator", {"the operator", "de beheerder", "der Administrator"}},
    {"actor.unknown-key",
     {"someone with an unknown key", "iemand met een onbekende sleutel",
      "jemand mit einem unbekannten Schlüssel"}},
    {"res.revealed", {"the name was revealed", "de naam is getoond", "der Name wurde angezeigt"}},
    {"res.not_council",
     {"REFUSED: not the works council's key", "GEWEIGERD: niet de sleutel van de ondernemingsraad",
      "ABGELEHNT: nicht der Schlüssel des Betriebsrats"}},
    {"res.unreadable_key",
     {"REFUSED: the key could not be read", "GEWEIGERD: de sleutel was onleesbaar",
      "ABGELEHNT: der Schlüssel war nicht lesbar"}},
    {"res.not_found",
     {"not found: the pseudonym is unknown or its period's key was already destroyed",
      "niet gevonden: het pseudoniem is onbekend of de sleutel van die periode is al vernietigd",
      "nicht gefunden: das Pseudonym ist unbekannt oder der Schlüssel seines Zeitraums ist "
      "bereits vernichtet"}},
    {"ev.log.created",
     {"The log was started. Its first key has the fingerprint %s.",
      "Het logboek is begonnen. De eerste sleutel heeft de vingerafdruk %s.",
      "Das Protokoll wurde begonnen. Sein erster Schlüssel hat den Fingerabdruck %s."}},
    {"ev.gateway.start",
     {"The gateway started (fairgate %s).", "De gateway is gestart (fairgate %s).",
      "Das Gateway wurde gestartet (fairgate %s)."}},
    {"ev.gateway.start.recovered",
     {" It took over %s messages that had not been sent yet.",
      " Hij nam %s berichten over die nog niet verstuurd waren.",
      " Es übernahm %s noch nicht versandte Nachrichten."}},
    {"ev.gateway.stop",
     {"The gateway stopped normally. It had received %s inputs and delivered %s messages; %s "
      "were still waiting to be sent.",
      "De gateway is normaal gestopt. Hij had %s invoerberichten ontvangen en %s berichten "
      "afgeleverd; %s wachtten nog op verzending.",
      "Das Gateway wurde regulär beendet. Es hatte %s Eingänge empfangen und %s Nachrichten "
      "zugestellt; %s warteten noch auf den Versand."}},
    {"ev.policy.loaded",
     {"Policy \"%s\" version %s took effect, signed by %s.",
      "Beleid \"%s\" versie %s is van kracht geworden, ondertekend door %s.",
      "Die Richtlinie \"%s\" Version %s ist in Kraft getreten, unterschrieben von %s."}},
    {"ev.policy.reloaded",
     {"Policy \"%s\" version %s replaced the previous one, signed by %s.",
      "Beleid \"%s\" versie %s heeft het vorige vervangen, ondertekend door %s.",
      "Die Richtlinie \"%s\" Version %s hat die vorige ersetzt, unterschrieben von %s."}},
    {"ev.policy.loaded.unsigned",
     {"Policy \"%s\" version %s took effect WITHOUT the works council's signature (signed by: "
      "%s).",
      "Beleid \"%s\" versie %s is van kracht geworden ZONDER handtekening van de "
      "ondernemingsraad (ondertekend door: %s).",
      "Die Richtlinie \"%s\" Version %s ist OHNE Unterschrift des Betriebsrats in Kraft "
      "getreten (unterschrieben von: %s)."}},
    {"ev.policy.refused",
     {"A policy was REFUSED: %s. The previous policy stayed in force.",
      "Een beleid is GEWEIGERD: %s. Het vorige beleid bleef van kracht.",
      "Eine Richtlinie wurde ABGELEHNT: %s. Die vorige Richtlinie blieb in Kraft."}},
    {"ev.policy.refused.none",
     {"A policy was REFUSED: %s. No policy was in force, so nothing was forwarded.",
      "Een beleid is GEWEIGERD: %s. Er was geen beleid van kracht, dus er ging niets naar "
      "buiten.",
      "Eine Richtlinie wurde ABGELEHNT: %s. Es war keine Richtlinie in Kraft, also wurde "
      "nichts weitergeleitet."}},
    {"ev.policy.expired",
     {"Policy \"%s\" version %s has expired: nothing is forwarded under it any more.",
      "Beleid \"%s\" versie %s is verlopen: daaronder gaat niets meer naar buiten.",
      "Die Richtlinie \"%s\" Version %s ist abgelaufen: unter ihr wird nichts mehr "
      "weitergeleitet."}},
    {"ev.config.changed.first",
     {"The gateway's settings file was recorded for the first time.",
      "Het instellingenbestand van de gateway is voor het eerst vastgelegd.",
      "Die Einstellungsdatei des Gateways wurde zum ersten Mal erfasst."}},
    {"ev.config.changed",
     {"The gateway's settings file was changed since the previous start. Ask the operator what "
      "changed.",
      "Het instellingenbestand van de gateway is sinds de vorige start gewijzigd. Vraag de "
      "beheerder wat er veranderd is.",
      "Die Einstellungsdatei des Gateways wurde seit dem letzten Start geändert. Fragen Sie den "
      "Administrator, was sich geändert hat."}},
    {"ev.outbox.purged",
     {"%s messages of route \"%s\" were deleted without being sent, because their retention "
      "period had ended.",
      "%s berichten van route \"%s\" zijn onverstuurd verwijderd, omdat hun bewaartermijn "
      "voorbij was.",
      "%s Nachrichten der Route \"%s\" wurden ungesendet gelöscht, weil ihre Aufbewahrungsfrist "
      "abgelaufen war."}},
    {"ev.pseudonym.rotated",
     {"A new pseudonym period began: from now on everyone has new pseudonyms.",
      "Er is een nieuwe pseudoniemperiode begonnen: vanaf nu heeft iedereen nieuwe "
      "pseudoniemen.",
      "Ein neuer Pseudonym-Zeitraum hat begonnen: ab jetzt haben alle neue Pseudonyme."}},
    {"ev.pseudonym.destroyed",
     {"The keys of an old pseudonym period were destroyed: its pseudonyms can no longer be "
      "linked to anyone, not even by the works council.",
      "De sleutels van een oude pseudoniemperiode zijn vernietigd: die pseudoniemen zijn aan "
      "niemand meer te koppelen, ook niet door de ondernemingsraad.",
      "Die Schlüssel eines alten Pseudonym-Zeitraums wurden vernichtet: seine Pseudonyme lassen "
      "sich niemandem mehr zuordnen, auch nicht durch den Betriebsrat."}},
    {"ev.reidentify",
     {"Re-identification: %s asked who was behind the pseudonym %s (a code, not a name) on "
      "route \"%s\". Reason given: \"%s\". Outcome: %s.",
      "Heridentificatie: %s vroeg wie er achter het pseudoniem %s (een code, geen naam) op "
      "route \"%s\" zat. Opgegeven reden: \"%s\". Uitkomst: %s.",
      "Re-Identifizierung: %s wollte wissen, wer hinter dem Pseudonym %s (ein Code, kein Name) "
      "auf der Route \"%s\" steht. Angegebener Grund: \"%s\". Ergebnis: %s."}},
    {"ev.subject_report",
     {"%s produced a subject report for one worker (%s pseudonyms, %s batches of messages).",
      "%s heeft een overzicht voor één medewerker gemaakt (%s pseudoniemen, %s reeksen "
      "berichten).",
      "%s hat eine Auskunft für eine Person erstellt (%s Pseudonyme, %s Nachrichtenpakete)."}},
    {"ev.subject_report.refused",
     {"%s tried to produce a subject report for a worker. Outcome: %s.",
      "%s probeerde een overzicht voor een medewerker te maken. Uitkomst: %s.",
      "%s versuchte, eine Auskunft für eine Person zu erstellen. Ergebnis: %s."}},
    {"ev.audit.read",
     {"%s read this log (%s).", "%s heeft dit logboek gelezen (%s).",
      "%s hat dieses Protokoll gelesen (%s)."}},
    {"ev.audit.export",
     {"%s exported this log (as %s).", "%s heeft dit logboek geëxporteerd (als %s).",
      "%s hat dieses Protokoll exportiert (als %s)."}},
    {"ev.audit.pruned",
     {"Entries before %s were removed from the log (%s entries). What remains still checks out "
      "with your key.",
      "Regels van vóór %s zijn uit het logboek verwijderd (%s regels). Wat overblijft, klopt nog "
      "steeds met uw sleutel.",
      "Einträge vor %s wurden aus dem Protokoll entfernt (%s Einträge). Der Rest lässt sich "
      "weiterhin mit Ihrem Schlüssel prüfen."}},
    {"ev.audit.repaired",
     {"After an interruption (crash or power cut) a half-written last line was removed (%s "
      "bytes). Nothing sealed was touched.",
      "Na een onderbreking (vastloper of stroomuitval) is een half geschreven laatste regel "
      "verwijderd (%s bytes). Niets wat verzegeld was, is geraakt.",
      "Nach einer Unterbrechung (Absturz oder Stromausfall) wurde eine halb geschriebene letzte "
      "Zeile entfernt (%s Bytes). Nichts Versiegeltes wurde berührt."}},
    {"ev.upstream.connected",
     {"Connected to the receiving server (%s).", "Verbonden met de ontvangende server (%s).",
      "Verbindung zum empfangenden Server hergestellt (%s)."}},
    {"ev.upstream.lost",
     {"The connection to the receiving server (%s) was lost; messages wait on the site until "
      "it is back.",
      "De verbinding met de ontvangende server (%s) is verbroken; berichten wachten op de "
      "locatie tot die terug is.",
      "Die Verbindung zum empfangenden Server (%s) brach ab; Nachrichten warten vor Ort, bis sie "
      "wieder steht."}},
    {"ev.input.rejected",
     {"Sensor messages were rejected and not forwarded: %s. Only the number is recorded, never "
      "the content.",
      "Sensorberichten zijn geweigerd en niet doorgestuurd: %s. Alleen het aantal wordt "
      "vastgelegd, nooit de inhoud.",
      "Sensornachrichten wurden abgewiesen und nicht weitergeleitet: %s. Nur die Anzahl wird "
      "festgehalten, nie der Inhalt."}},
    {"ev.cert.local",
     {"The certificate for the sensors' broker expires in %s days.",
      "Het certificaat voor de broker van de sensoren verloopt over %s dagen.",
      "Das Zertifikat für den Broker der Sensoren läuft in %s Tagen ab."}},
    {"ev.cert.upstream",
     {"The certificate for the receiving server expires in %s days.",
      "Het certificaat voor de ontvangende server verloopt over %s dagen.",
      "Das Zertifikat für den empfangenden Server läuft in %s Tagen ab."}},
    /* trust (issue 14): keys, required roles, weakenings */
    {"ev.trust",
     {"The gateway started with these keys: %s. Required to sign the policy: %s.",
      "De gateway is gestart met deze sleutels: %s. Het beleid moet ondertekend zijn door: %s.",
      "Das Gateway wurde mit diesen Schlüsseln gestartet: %s. Unterschreiben müssen: %s."}},
    {"ev.trust.accepted",
     {"The operator accepted these keys as the new baseline: %s. Required to sign: %s. Ask why.",
      "De beheerder heeft deze sleutels als nieuwe basis aanvaard: %s. Ondertekenen moeten: %s. "
      "Vraag waarom.",
      "Der Administrator hat diese Schlüssel als neue Grundlage übernommen: %s. Unterschreiben "
      "müssen: %s. Fragen Sie nach dem Grund."}},
    {"ev.trust.weakened",
     {"Co-determination is weakened: %s", "De medezeggenschap is verzwakt: %s",
      "Die Mitbestimmung ist geschwächt: %s"}},
    {"wk.trust_key_changed",
     {"the key of %s was replaced (accepted: %s, now: %s).",
      "de sleutel van %s is vervangen (aanvaard: %s, nu: %s).",
      "der Schlüssel für %s wurde ersetzt (übernommen: %s, jetzt: %s)."}},
    {"wk.required_roles_reduced",
     {"fewer sides have to sign the policy (no longer required: %s).",
      "minder partijen hoeven het beleid te ondertekenen (niet meer nodig: %s).",
      "weniger Seiten müssen die Richtlinie unterschreiben (nicht mehr nötig: %s)."}},
    {"wk.codetermination_off",
     {"%s no longer has to sign the policy.", "%s hoeft het beleid niet meer te ondertekenen.",
      "%s muss die Richtlinie nicht mehr unterschreiben."}},
    {"wk.no_hostname_check.upstream",
     {"the gateway does not check the name of the receiving server (TLS host name check off).",
      "de gateway controleert de naam van de ontvangende server niet (TLS-hostnaamcontrole "
      "uit).",
      "das Gateway prüft den Namen des empfangenden Servers nicht (TLS-Hostnamenprüfung aus)."}},
    {"wk.no_hostname_check.local",
     {"the gateway does not check the name of the sensors' broker (TLS host name check off).",
      "de gateway controleert de naam van de broker van de sensoren niet "
      "(TLS-hostnaamcontrole uit).",
      "das Gateway prüft den Namen des Brokers der Sensoren nicht (TLS-Hostnamenprüfung aus)."}},
    {"wk.upstream_tls_off",
     {"data leaves the site without encryption (no TLS to the receiving server).",
      "gegevens verlaten de locatie onversleuteld (geen TLS naar de ontvangende server).",
      "Daten verlassen den Standort unverschlüsselt (kein TLS zum empfangenden Server)."}},
    {"wk.other", {"%s", "%s", "%s"}},
    /* policy verify: the verdict in the reader's words */
    {"vd.may",
     {"In plain words: this policy may take effect; every required side has signed it.",
      "Oordeel: dit beleid mag van kracht worden; elke vereiste partij heeft het ondertekend.",
      "Ergebnis: Diese Richtlinie darf in Kraft treten; jede erforderliche Seite hat sie "
      "unterschrieben."}},
    {"vd.unsigned",
     {"In plain words: refused, the policy carries no signatures at all.",
      "Oordeel: geweigerd, het beleid is door niemand ondertekend.",
      "Ergebnis: abgelehnt, die Richtlinie ist von niemandem unterschrieben."}},
    {"vd.edited",
     {"In plain words: refused, the signature of %s no longer fits: the file was changed after "
      "signing.",
      "Oordeel: geweigerd, de handtekening van %s past niet meer: het bestand is na het "
      "ondertekenen gewijzigd.",
      "Ergebnis: abgelehnt, die Unterschrift (%s) passt nicht mehr: Die Datei wurde nach dem "
      "Unterschreiben geändert."}},
    {"vd.wrong_key",
     {"In plain words: refused, it was signed in the name of %s, but not with the key set up for "
      "%s on the gateway.",
      "Oordeel: geweigerd, het is ondertekend namens %s, maar niet met de sleutel die op de "
      "gateway voor %s is ingesteld.",
      "Ergebnis: abgelehnt, unterschrieben hat angeblich %s, aber nicht mit dem Schlüssel, der "
      "auf dem Gateway dafür eingerichtet ist (%s)."}},
    {"vd.missing",
     {"In plain words: refused, %s has not signed it.",
      "Oordeel: geweigerd, %s heeft het niet ondertekend.",
      "Ergebnis: abgelehnt, %s hat sie nicht unterschrieben."}},
    {"vd.expired",
     {"In plain words: refused, the policy's end date has passed.",
      "Oordeel: geweigerd, de einddatum van het beleid is voorbij.",
      "Ergebnis: abgelehnt, das Enddatum der Richtlinie ist überschritten."}},
    {"vd.other",
     {"In plain words: refused (%s).", "Oordeel: geweigerd (%s).", "Ergebnis: abgelehnt (%s)."}},
    {0, {0, 0, 0}},
};
