/* Catalogue: the audit report for a works council meeting. */
#include "common/fg_i18n_tables.h"

const struct fg_msg fg_msgs_report[] = {
    {"rp.title",
     {"Audit report: what left the site", "Auditrapport: wat de locatie heeft verlaten",
      "Prüfbericht: was den Standort verlassen hat"}},
    {"rp.period",
     {"Period: %s to %s (times in UTC). Made on %s.",
      "Periode: %s tot en met %s (tijden in UTC). Gemaakt op %s.",
      "Zeitraum: %s bis %s (Zeiten in UTC). Erstellt am %s."}},
    {"rp.verify.ok",
     {"The log is intact: nothing in it was changed, added or removed since it began on %s.",
      "Het logboek is onbeschadigd: er is niets in gewijzigd, toegevoegd of uit verwijderd "
      "sinds het begon op %s.",
      "Das Protokoll ist unversehrt: Seit seinem Beginn am %s wurde nichts darin geändert, "
      "hinzugefügt oder entfernt."}},
    {"rp.verify.ok.key",
     {"All %s entries check out against the log's first key. Compare its fingerprint with your "
      "key card:",
      "Alle %s regels kloppen met de eerste sleutel van het logboek. Vergelijk de vingerafdruk "
      "met uw sleutelkaart:",
      "Alle %s Einträge passen zum ersten Schlüssel des Protokolls. Vergleichen Sie seinen "
      "Fingerabdruck mit Ihrer Schlüsselkarte:"}},
    {"rp.verify.no_witness",
     {"No earlier check was compared (no witness file): that the end of the log is complete "
      "cannot be shown this way. Keep the witness file from each check.",
      "Er is geen eerdere controle vergeleken (geen getuigebestand): of het einde van het "
      "logboek compleet is, valt zo niet aan te tonen. Bewaar het getuigebestand van elke "
      "controle.",
      "Es wurde keine frühere Prüfung verglichen (keine Zeugendatei): Dass das Ende des "
      "Protokolls vollständig ist, lässt sich so nicht zeigen. Bewahren Sie die Zeugendatei "
      "jeder Prüfung auf."}},
    {"rp.verify.witness",
     {"It continues, unchanged, the log you checked last time (witness file).",
      "Het is een ongewijzigde voortzetting van het logboek dat u de vorige keer controleerde "
      "(getuigebestand).",
      "Es setzt das Protokoll, das Sie zuletzt geprüft haben, unverändert fort (Zeugendatei)."}},
    {"rp.verify.witness_pruned",
     {"The point you checked last time lies in a part that was removed on purpose; it could not "
      "be compared.",
      "Het punt dat u de vorige keer controleerde, ligt in een deel dat bewust is verwijderd; "
      "het kon niet worden vergeleken.",
      "Der zuletzt geprüfte Stand liegt in einem absichtlich entfernten Teil und konnte nicht "
      "verglichen werden."}},
    {"rp.verify.pruned",
     {"Entries before %s were removed on purpose; what remains still checks out with your key.",
      "Regels van vóór %s zijn bewust verwijderd; wat overblijft, klopt nog steeds met uw "
      "sleutel.",
      "Einträge vor %s wurden absichtlich entfernt; der Rest lässt sich weiterhin mit Ihrem "
      "Schlüssel prüfen."}},
    {"rp.verify.unsealed",
     {"The newest %s entries, written since %s, are not sealed yet (the last seal is from %s): "
      "until the gateway seals them, anyone with the file could still change them.",
      "De nieuwste %s regels, geschreven sinds %s, zijn nog niet verzegeld (de laatste "
      "verzegeling is van %s): tot de gateway ze verzegelt, kan wie het bestand heeft ze nog "
      "wijzigen.",
      "Die neuesten %s Einträge, geschrieben seit %s, sind noch nicht versiegelt (das letzte "
      "Siegel stammt vom %s): Bis das Gateway sie versiegelt, könnte sie jeder mit Zugriff auf "
      "die Datei noch ändern."}},
    {"rp.verify.bad",
     {"The log is DAMAGED: %s (line %s).", "Het logboek is BESCHADIGD: %s (regel %s).",
      "Das Protokoll ist BESCHÄDIGT: %s (Zeile %s)."}},
    {"rp.verify.bad.what",
     {"Do not rely on the figures below: they come from the readable entries only. Ask the "
      "operator for an explanation and put it in the minutes.",
      "Vertrouw niet op de cijfers hieronder: ze komen alleen uit de leesbare regels. Vraag de "
      "beheerder om uitleg en neem die op in het verslag.",
      "Verlassen Sie sich nicht auf die Zahlen unten: Sie stammen nur aus den lesbaren "
      "Einträgen. Bitten Sie den Administrator um eine Erklärung und nehmen Sie sie ins "
      "Protokoll auf."}},
    {"rp.brief", {"In brief", "In het kort", "Kurz gefasst"}},
    {"rp.brief.left", {"What left the site:", "Wat naar buiten ging:", "Was hinausging:"}},
    {"rp.brief.left.n", {"%s, through %s, to %s.", "%s, via %s, naar %s.", "%s über %s an %s."}},
    {"rp.count.messages", {"%s messages", "%s berichten", "%s Nachrichten"}},
    {"rp.count.messages.1", {"%s message", "%s bericht", "%s Nachricht"}},
    {"rp.count.routes", {"%s routes", "%s routes", "%s Routen"}},
    {"rp.count.routes.1", {"%s route", "%s route", "%s Route"}},
    {"rp.count.destinations", {"%s destinations", "%s bestemmingen", "%s Empfänger"}},
    {"rp.count.destinations.1", {"%s destination", "%s bestemming", "%s Empfänger"}},
    {"rp.brief.purged.1",
     {"One more message was deleted unsent because its retention period ended.",
      "Nog één bericht is onverstuurd verwijderd omdat de bewaartermijn voorbij was.",
      "Eine weitere Nachricht wurde ungesendet gelöscht, weil ihre Aufbewahrungsfrist "
      "abgelaufen war."}},
    {"rp.brief.reads.1",
     {"This log itself was read or exported once (see below).",
      "Dit logboek zelf is één keer gelezen of geëxporteerd (zie hieronder).",
      "Dieses Protokoll selbst wurde einmal gelesen oder exportiert (siehe unten)."}},
    {"rp.brief.rejected.1",
     {"%s sensor message was rejected", "%s sensorbericht is geweigerd",
      "%s Sensornachricht wurde abgewiesen"}},
    {"rp.brief.refused.n.1",
     {"%s attempt was refused:", "%s poging is geweigerd:", "%s Versuch wurde abgelehnt:"}},
    {"rp.brief.left.none",
     {"no message left the site in this period.",
      "in deze periode heeft geen enkel bericht de locatie verlaten.",
      "in diesem Zeitraum hat keine Nachricht den Standort verlassen."}},
    {"rp.brief.purged",
     {"Another %s messages were deleted unsent because their retention period ended.",
      "Nog eens %s berichten zijn onverstuurd verwijderd omdat hun bewaartermijn voorbij was.",
      "Weitere %s Nachrichten wurden ungesendet gelöscht, weil ihre Aufbewahrungsfrist "
      "abgelaufen war."}},
    {"rp.brief.purposes", {"For which purposes:", "Voor welke doelen:", "Zu welchen Zwecken:"}},
    {"rp.brief.purpose",
     {"\"%s\" (route %s): %s messages", "\"%s\" (route %s): %s berichten",
      "\"%s\" (Route %s): %s Nachrichten"}},
    {"rp.brief.coarse",
     {"What kind of data, and how coarse:", "Welke soort gegevens, en hoe grof:",
      "Welche Art von Daten, und wie grob:"}},
    {"rp.brief.none", {"none.", "geen.", "keine."}},
    {"rp.brief.route_cats", {"route %s: %s.", "route %s: %s.", "Route %s: %s."}},
    {"rp.brief.route_how", {"route %s: %s; %s.", "route %s: %s; %s.", "Route %s: %s; %s."}},
    {"rp.brief.coarse.how",
     {"How precise each kind is (a pseudonym instead of a name, a zone instead of a position, "
      "totals instead of single records) is written in the signed policy: read it with "
      "\"fairgate policy explain\" in your language, or make this report with --config and it "
      "shows here.",
      "Hoe precies elke soort is (een pseudoniem in plaats van een naam, een zone in plaats van "
      "een positie, totalen in plaats van losse berichten) staat in het ondertekende beleid: "
      "lees het met \"fairgate policy explain\" in uw taal, of maak dit rapport met --config, "
      "dan staat het hier.",
      "Wie genau jede Art ist (ein Pseudonym statt eines Namens, ein Bereich statt einer "
      "Position, Summen statt einzelner Datensätze), steht in der unterschriebenen Richtlinie: "
      "lesen Sie sie mit \"fairgate policy explain\" in Ihrer Sprache, oder erstellen Sie den "
      "Bericht mit --config, dann steht es hier."}},
    {"rp.brief.looked",
     {"Who looked at whom, and why:", "Wie keek naar wie, en waarom:",
      "Wer hat wen angesehen, und warum:"}},
    {"rp.brief.looked.none",
     {"nobody: no re-identification and no subject report in this period.",
      "niemand: geen heridentificatie en geen overzicht voor een medewerker in deze periode.",
      "niemand: keine Re-Identifizierung und keine Auskunft an eine Person in diesem "
      "Zeitraum."}},
    {"rp.brief.reads",
     {"This log itself was read or exported %s times (listed below).",
      "Dit logboek zelf is %s keer gelezen of geëxporteerd (zie de lijst hieronder).",
      "Dieses Protokoll selbst wurde %s-mal gelesen oder exportiert (siehe Liste unten)."}},
    {"rp.brief.refused", {"What was refused:", "Wat werd geweigerd:", "Was abgelehnt wurde:"}},
    {"rp.brief.rejected",
     {"%s sensor messages were rejected", "%s sensorberichten zijn geweigerd",
      "%s Sensornachrichten wurden abgewiesen"}},
    {"rp.brief.refused.n",
     {"%s attempts were refused:", "%s pogingen zijn geweigerd:", "%s Versuche wurden abgelehnt:"}},
    {"rp.brief.refused.none",
     {"No policy, re-identification or subject report was refused.",
      "Er is geen beleid, heridentificatie of overzicht geweigerd.",
      "Keine Richtlinie, Re-Identifizierung oder Auskunft wurde abgelehnt."}},
    {"rp.brief.weak",
     {"Anything that weakened co-determination:", "Wat de medezeggenschap verzwakte:",
      "Was die Mitbestimmung geschwächt hat:"}},
    {"rp.brief.weak.none",
     {"nothing: every policy in force was signed by the works council.",
      "niets: elk beleid dat van kracht was, was ondertekend door de ondernemingsraad.",
      "nichts: Jede geltende Richtlinie war vom Betriebsrat unterschrieben."}},
    {"rp.brief.weak.inforce",
     {"in force at the last start:", "van kracht bij de laatste start:",
      "beim letzten Start in Kraft:"}},
    {"rp.brief.weak.since", {"(seen %s)", "(gezien %s)", "(gesehen %s)"}},
    {"rp.brief.weak.none_trust",
     {"nothing: at the last start every trusted key, required role and TLS check was as "
      "accepted.",
      "niets: bij de laatste start waren alle vertrouwde sleutels, verplichte rollen en "
      "TLS-controles zoals aanvaard.",
      "nichts: Beim letzten Start waren alle vertrauten Schlüssel, Pflichtrollen und "
      "TLS-Prüfungen wie übernommen."}},
    {"rp.brief.gaps",
     {"Interruptions and things to ask about:", "Onderbrekingen en punten om naar te vragen:",
      "Unterbrechungen und Punkte zum Nachfragen:"}},
    {"rp.brief.gaps.none",
     {"the gateway ran without interruption.", "de gateway liep zonder onderbreking.",
      "das Gateway lief ohne Unterbrechung."}},
    {"rp.brief.attention",
     {"To ask the operator about:", "Om de beheerder naar te vragen:",
      "Beim Administrator nachzufragen:"}},
    {"rp.gap.silence",
     {"no entries from %s to %s (%s).", "geen regels van %s tot %s (%s).",
      "keine Einträge von %s bis %s (%s)."}},
    {"rp.gap.restart",
     {"the gateway was stopped from %s to %s (%s).", "de gateway stond stil van %s tot %s (%s).",
      "das Gateway war von %s bis %s angehalten (%s)."}},
    {"rp.gap.crash",
     {"the gateway stopped without a clean shutdown (crash or power cut) after %s and started "
      "again at %s (%s).",
      "de gateway stopte zonder nette afsluiting (vastloper of stroomuitval) na %s en startte "
      "weer om %s (%s).",
      "das Gateway stoppte ohne ordentliches Herunterfahren (Absturz oder Stromausfall) nach %s "
      "und startete wieder um %s (%s)."}},
    {"rp.charts", {"Over time", "In de tijd", "Im Zeitverlauf"}},
    {"rp.chart.all",
     {"Messages per day, all routes", "Berichten per dag, alle routes",
      "Nachrichten pro Tag, alle Routen"}},
    {"rp.chart.route",
     {"Messages per day, route %s", "Berichten per dag, route %s",
      "Nachrichten pro Tag, Route %s"}},
    {"rp.messages", {"messages", "berichten", "Nachrichten"}},
    {"rp.col.day", {"day", "dag", "Tag"}},
    {"rp.col.category", {"kind of data", "soort gegevens", "Art der Daten"}},
    {"rp.col.route", {"route", "route", "Route"}},
    {"rp.col.destination", {"destination", "bestemming", "Empfänger"}},
    {"rp.table.categories",
     {"Kinds of data that left the site (messages that carried them)",
      "Soorten gegevens die naar buiten gingen (berichten waarin ze zaten)",
      "Arten von Daten, die hinausgingen (Nachrichten, die sie enthielten)"}},
    {"rp.table.routes", {"Routes", "Routes", "Routen"}},
    {"rp.table.destinations", {"Destinations", "Bestemmingen", "Empfänger"}},
    {"rp.events",
     {"Everything that happened, in order", "Alles wat er gebeurde, op volgorde",
      "Alles, was geschah, der Reihe nach"}},
    {"rp.events.note",
     {"Not listed one by one: %s sending summaries (they are in the charts above), %s seals and "
      "%s key changes of the log itself.",
      "Niet één voor één vermeld: %s verzendoverzichten (die staan in de grafieken hierboven), "
      "%s verzegelingen en %s sleutelwissels van het logboek zelf.",
      "Nicht einzeln aufgeführt: %s Versandübersichten (sie stehen in den Diagrammen oben), %s "
      "Versiegelungen und %s Schlüsselwechsel des Protokolls selbst."}},
    {"rp.col.when", {"when (UTC)", "wanneer (UTC)", "wann (UTC)"}},
    {"rp.col.who", {"who", "wie", "wer"}},
    {"rp.col.what", {"what", "wat", "was"}},
    {"rp.tag.refused", {"REFUSED", "GEWEIGERD", "ABGELEHNT"}},
    {"rp.tag.weakening", {"WEAKENING", "VERZWAKKING", "SCHWÄCHUNG"}},
    {"rp.tag.attention", {"ASK", "NAVRAGEN", "NACHFRAGEN"}},
    {"rp.footer",
     {"Made by \"fairgate audit report\". Check it yourself: fairgate audit verify LOG --key "
      "FIRST_KEY --witness WITNESS.",
      "Gemaakt met \"fairgate audit report\". Controleer het zelf: fairgate audit verify LOG "
      "--key EERSTE_SLEUTEL --witness GETUIGE.",
      "Erstellt mit \"fairgate audit report\". Prüfen Sie selbst: fairgate audit verify LOG "
      "--key ERSTER_SCHLUESSEL --witness ZEUGE."}},
    {"rd.ok",
     {"%s: the audit log is INTACT. Fingerprint of its first key: %s. Compare it with your key "
      "card; if it differs, this report is not about your log.",
      "%s: het auditlogboek is ONBESCHADIGD. Vingerafdruk van de eerste sleutel: %s. Vergelijk "
      "die met uw sleutelkaart; wijkt hij af, dan gaat dit rapport niet over uw logboek.",
      "%s: Das Prüfprotokoll ist UNVERSEHRT. Fingerabdruck seines ersten Schlüssels: %s. "
      "Vergleichen Sie ihn mit Ihrer Schlüsselkarte; weicht er ab, betrifft dieser Bericht "
      "nicht Ihr Protokoll."}},
    {"rd.bad",
     {"%s: the audit log is DAMAGED: %s (line %s). Fingerprint of the key checked against: %s. "
      "Ask the operator for an explanation.",
      "%s: het auditlogboek is BESCHADIGD: %s (regel %s). Vingerafdruk van de sleutel waarmee "
      "is gecontroleerd: %s. Vraag de beheerder om uitleg.",
      "%s: Das Prüfprotokoll ist BESCHÄDIGT: %s (Zeile %s). Fingerabdruck des geprüften "
      "Schlüssels: %s. Bitten Sie den Administrator um eine Erklärung."}},
    {0, {0, 0, 0}},
};
