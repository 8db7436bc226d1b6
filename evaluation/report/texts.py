"""Every text shown in the reports, in Danish (default) and English.

One dictionary per language with the same keys; placeholders are ``str.format`` fields. The
templates in ``reports/`` hold no prose of their own: they ask for texts here by key, so that both
languages come from the same template.
"""

from __future__ import annotations

LANGUAGES = ("da", "en")

TEXTS: dict[str, dict[str, str]] = {
    "da": {
        "title_quarterly": "Knock Knock og Taskforce: kvartalsrapport {quarter}",
        "title_technical": "Knock Knock og Taskforce: teknisk bilag {quarter}",
        "subtitle": "{study}. Data til og med {data_end}.",
        "h_contacts": "Kontakter i tal",
        "contacts_intro": (
            "I {quarter} fik {n_quarter} unge deres første kontakt. Siden indsatsen begyndte "
            "({start}), har i alt {n_total} unge haft kontakt."
        ),
        "contacts_intro_nostart": (
            "I {quarter} fik {n_quarter} unge deres første kontakt; i alt {n_total} unge har haft kontakt."
        ),
        "contacts_note": (
            "Antal under {threshold} vises ikke, og flere tal skjules, så de skjulte tal ikke kan "
            "regnes ud fra totaler eller andre tal i rapporten."
        ),
        "suppressed_note": (
            "{mark} = ikke vist: et antal under {threshold} personer, eller et tal der er skjult, "
            "fordi et lille antal ellers kunne regnes ud."
        ),
        "h_findings": "Hvad viser tallene indtil nu?",
        "findings_intro": (
            "For hvert område sammenligner vi de unge, der har haft kontakt, med en "
            "sammenligningsgruppe af lignende unge, der ikke havde haft kontakt på samme dato."
        ),
        "h_box": "Hvad disse resultater kan og ikke kan fortælle",
        "box_can_1": "De sammenligner unge med kontakt med lignende unge uden kontakt på samme tidspunkt.",
        "box_can_2": "De viser, hvor usikre tallene er, og hvornår vi endnu ikke kan sige noget.",
        "box_cannot_1": (
            "De kan ikke helt udelukke, at forskelle skyldes forhold, som registrene ikke viser "
            "(fx familie, venner, motivation)."
        ),
        "box_cannot_2": "De siger ikke noget om den enkelte unge, kun om grupper.",
        "box_cannot_3": "Små tal skjules af hensyn til de unges privatliv.",
        "h_figure": "Udviklingen over tid",
        "figure_caption": (
            "Andel med {label} efter første kontakt (eller tilsvarende dato i sammenligningsgruppen). "
            "Tallene under figuren er antal unge, der stadig følges; tal under {floor} vises ikke, "
            "kurven stopper, når færre end {floor} følges, og hvert trin samler mindst {threshold} "
            "hændelser."
        ),
        "h_comparison": "Sådan vælges sammenligningsgruppen",
        "comparison_text": (
            "Hver ung med kontakt sammenlignes med op til {ratio} unge, som på datoen for kontakten "
            "boede i området, var af samme køn og omtrent samme alder, og som "
            "lignede den unge i tidligere sigtelser, varetægt, uddannelse og job samt kontakt til "
            "kriminelle grupper - men som ikke havde haft kontakt. Begge grupper følges fra samme "
            "dato. Får en ung i sammenligningsgruppen senere kontakt, stopper opfølgningen af "
            "vedkommende i sammenligningsgruppen."
        ),
        "comparison_coverage": (
            "For {n_matched} af de {n_eligible} unge med kontakt kunne der findes en lignende ung "
            "uden kontakt. Resultaterne handler om dem; unge med kontakt, der ikke ligner nogen uden "
            "kontakt (ofte dem med størst risiko), er ikke med i sammenligningen."
        ),
        "comparison_text_iptw": (
            "Unge med kontakt sammenlignes med alle unge i området, som på samme tid kunne have "
            "fået kontakt, men ikke fik det. Sammenligningsgruppen vægtes, så den ligner de unge med "
            "kontakt i alder, køn, tidligere sigtelser, varetægt, uddannelse og job samt kontakt "
            "til kriminelle grupper. Begge grupper følges fra samme dato."
        ),
        "h_asof": "Datagrundlag og hvornår vi kan vente svar",
        "asof_text": "Rapporten bygger på data til og med {data_end}.",
        "dq_council": "{n_bad} af {n_read} registreringer i registrene kunne ikke bruges (fx et "
                      "manglende eller ulæseligt CPR-nummer eller en dato, der ikke kan læses) og er "
                      "ikke med i tallene.",
        "h_data_quality": "Registreringer, der ikke kunne bruges",
        "dq_intro": "Rækker læst, skrevet til datavarehuset og sat i karantæne (kunne ikke bruges) "
                    "pr. kilde, med årsagen. En kilde med en større andel i karantæne end {share} "
                    "stopper kørslen.",
        "dq_unavailable": "Datavarehuset er ikke lavet med `evaluation pseudonymise`; der findes "
                          "ingen opgørelse over rækker, der ikke kunne bruges.",
        "col_source": "Kilde",
        "col_rows_read": "Læst",
        "col_rows_written": "Brugt",
        "col_rows_quarantined": "Ikke brugt",
        "col_reason_quarantine": "Årsag",
        "mde_text": (
            "{label}: med de nuværende tal kan en forskel først skelnes fra tilfældigheder, hvis "
            "kontakten mindst {effect}."
        ),
        "effect_down": "sænker risikoen til {pct} af sammenligningsgruppens",
        "effect_up": "øger chancen til {times} gange sammenligningsgruppens",
        "mde_missing": "{label}: den mindste påviselige effekt kan endnu ikke beregnes.",
        "mde_note": (
            "Jo flere unge og hændelser, jo mindre effekter kan skelnes fra tilfældigheder; tallet "
            "rykker tættere på 100 % for hvert kvartal. Lignende indsatser for unge finder oftest, "
            "at risikoen falder til mellem 80 % og 100 % af sammenligningsgruppens, så et klart "
            "svar kan først ventes, når tallet her er oppe omkring 80 %."
        ),
        # finding sentences
        "within": "inden for {months} måneder",
        "finding_not_yet": (
            "{label} {within}: Vi kan endnu ikke sige, om kontakten gør en forskel, fordi {reasons}."
        ),
        "finding_no_difference": (
            "{label} {within}: {pct_c} af de unge med kontakt og {pct_k} i sammenligningsgruppen; "
            "forskellen ({rd} procentpoint, 95 %-konfidensinterval {lo} til {hi}) kan endnu ikke "
            "skelnes fra tilfældigheder."
        ),
        "finding_fewer_good": (
            "{label} {within}: færre blandt de unge med kontakt, {pct_c} mod {pct_k} i "
            "sammenligningsgruppen ({rd} procentpoint færre, 95 %-konfidensinterval {lo} til {hi})."
        ),
        "finding_more_good": (
            "{label} {within}: flere blandt de unge med kontakt, {pct_c} mod {pct_k} i "
            "sammenligningsgruppen ({rd} procentpoint flere, 95 %-konfidensinterval {lo} til {hi})."
        ),
        "finding_more_harm": (
            "{label} {within}: flere blandt de unge med kontakt, {pct_c} mod {pct_k} i "
            "sammenligningsgruppen ({rd} procentpoint flere, 95 %-konfidensinterval {lo} til {hi}). "
            "Det er et skadeligt resultat: kontakten hænger sammen med mere af det, den skulle mindske."
        ),
        "finding_fewer_harm": (
            "{label} {within}: færre blandt de unge med kontakt, {pct_c} mod {pct_k} i "
            "sammenligningsgruppen ({rd} procentpoint færre, 95 %-konfidensinterval {lo} til {hi}). "
            "Det er et skadeligt resultat: kontakten hænger sammen med mindre af det, den skulle øge."
        ),
        "reason_balance": "grupperne endnu ikke ligner hinanden nok",
        "reason_overlap": "grupperne overlapper for lidt i deres sandsynlighed for at få kontakt",
        "reason_proportional_hazards": "forskellen mellem grupperne ændrer sig over tid på en måde, modellen ikke kan beskrive",
        "reason_enough_events": "der endnu er for få hændelser",
        "reason_negative_controls": "metoden finder forskelle på udfald, som kontakten ikke kan påvirke",
        "gate_negative_controls": "Negative kontroller",
        "self_checks_passed": (
            "Metoden bestod sine egne kontroller: den fandt ingen forskel på udfald, som kontakten "
            "ikke kan påvirke, og ingen virkning før initiativet begyndte."
        ),
        "self_checks_failed": (
            "Metoden bestod ikke sine egne kontroller: den fandt forskelle på udfald, som kontakten "
            "ikke kan påvirke, eller en virkning før initiativet begyndte. Tallene ovenfor skal "
            "derfor læses med stor forsigtighed."
        ),
        "self_checks_not_evaluated": "Metodens egne kontroller kunne endnu ikke gennemføres.",
        "h_estimands": "Estimander",
        "estimand_primary": "primær",
        "col_estimand": "Estimand",
        "h_negative_controls": "Negative kontroller og empirisk kalibrering",
        "nc_null": (
            "Empirisk nulfordeling (log risikoforhold, {n} negative kontroller): middel {mean}, "
            "spredning {sd}; forventet absolut systematisk fejl {ease} (grænse {bound})."
        ),
        "h_placebo": "Placeboindeks (falsk start {start} til {end})",
        "h_subgroups": "Undergrupper (fastlagt i analyseplanen)",
        "subgroups_warning": (
            "Advarsel: {k} undergruppeopdelinger er testet; med så mange test vil en af dem ofte "
            "se ud til at afvige alene ved tilfældighed."
        ),
        "subgroups_hidden": "{dimension}: ikke vist ({reason}).",
        "col_subgroup": "Undergruppe",
        "col_interaction": "Interaktion, p",
        "h_rosenbaum": "Følsomhed for skjult confounding (Rosenbaum)",
        "rosenbaum_gamma": (
            "{label}: konklusionen holder, indtil en skjult faktor ændrer oddsene for kontakt inden "
            "for et matchet sæt med en faktor Gamma = {gamma}."
        ),
        "rosenbaum_none": "{label}: forskellen er ikke signifikant uden skjult confounding (Gamma = 1).",
        "col_weights": "Vægte (kvantiler)",
        "col_log_rr": "Log risikoforhold",
        "subgroup_reason_too_few_events": "færre end {n} hændelser i en gruppe i en undergruppe",
        "subgroup_reason_too_few_groups": "færre end to undergrupper",
        "subgroup_reason_not_in_cohort": "findes ikke i kohorten",
        "col_before_truncation": "Før afskæring",
        "col_after_truncation": "Efter afskæring",
        "reason_estimate_missing": "estimatet mangler i resultaterne",
        "reason_small_numbers": "tallene er så små, at de ikke må vises",
        "reason_other": "en kontrol ikke er bestået ({name})",
        "reason_estimated": "effekten ikke kunne estimeres",
        "reason_matched_share": "der kun blev fundet en sammenligning for for få af de unge med kontakt",
        "reason_no_match": "der endnu ikke kunne findes en lignende ung uden kontakt for nogen af de unge med kontakt",
        "finding_population": "Blandt de {n} unge med kontakt, der fik en sammenligning (af {n_eligible} med kontakt, der opfyldte kriterierne):",
        "and": "og",
        # tables
        "col_category": "Kategori",
        "col_quarter": "{quarter}",
        "col_cumulative": "I alt siden start",
        "col_n": "Antal",
        "col_pct": "Andel",
        "row_total": "I alt",
        "dim_total": "Alle",
        "dim_sex": "Køn",
        "dim_age_band": "Alder",
        "dim_contact_type": "Kontaktform",
        "dim_referred_to": "Henvist til",
        "arm_contacted": "Kontakt",
        "arm_comparison": "Sammenligning",
        "months": "{months} mdr.",
        "axis_time": "Måneder efter første kontakt",
        "axis_share": "Andel med hændelse",
        "axis_survival": "Andel endnu uden hændelse",
        "axis_propensity": "Propensity score",
        "axis_share_of_arm": "Andel af gruppen",
        "axis_smd": "Absolut standardiseret middelforskel",
        "axis_hr": "Hazard ratio, kontakt mod sammenligning (logaritmisk skala)",
        "figure_data": "Tallene bag figuren",
        "col_month": "Måned",
        "col_share": "Andel",
        "legend_before": "Før matchning",
        "legend_after": "Efter matchning",
        "h_disclosure": "Beskyttelse af små tal",
        "disclosure_text": (
            "Alle tal i begge rapporter er kontrolleret samlet: antal under {threshold} vises ikke; "
            "tal, der hænger sammen (dele og total, frafaldstrin, kohorte og udfaldspopulationer, "
            "matchede og umatchede, kvartalet og hele perioden, tidligere kvartalers rapporter), er "
            "kontrolleret med et lineært program, og flere tal er skjult, indtil intet lille antal "
            "kan regnes ud; andele, middelværdier, risici og kurver vises kun, når antallene bag dem "
            "er mindst {threshold}; kurver tegnes kun, mens mindst {floor} følges, med trin på mindst "
            "{threshold} hændelser. Reglerne og hvor mange tal hver afgjorde:"
        ),
        "disclosure_override": "Tærsklen {threshold} er under 3 efter en udtrykkelig begrundelse: {reason}.",
        "col_rule": "Regel",
        "col_cells": "Tal",
        "at_risk": "Antal fulgt",
        # technical
        "h_design": "Design",
        "design_text": (
            "Design: {design}. Kontaktede: {n_c}; sammenligning: {n_k}; matchede sæt: {n_sets}; "
            "forhold 1:{ratio}. Største standardiserede forskel før matchning {smd_before}, efter {smd_after}."
        ),
        "h_attrition": "Frafald (hvem er med)",
        "col_step": "Trin",
        "col_reason": "Årsag",
        "col_excluded": "Udelukket",
        "row_start": "Før udvælgelse",
        "row_end": "Med i analysen",
        "h_balance": "Balance mellem grupperne",
        "col_covariate": "Baggrundsvariabel",
        "col_smd_before": "SMD før",
        "col_smd_after": "SMD efter",
        "col_mean_contacted": "Gns. kontakt",
        "col_mean_comparison": "Gns. sammenligning",
        "col_before": "før",
        "col_after": "efter",
        "h_overlap": "Overlap i propensity score",
        "col_arm": "Gruppe",
        "col_matched": "Matchet",
        "col_persons": "Personer",
        "col_ps_p05": "P5",
        "col_ps_median": "Median",
        "col_ps_p95": "P95",
        "yes": "ja",
        "no": "nej",
        "h_outcome": "{label}",
        "h_curve": "Kumulativ incidens og overlevelse med antal fulgt",
        "h_models": "Modeller (matchet og naiv)",
        "col_model": "Model",
        "col_term": "Led",
        "col_group": "Gruppe",
        "col_time": "Tid (dage)",
        "col_estimate": "Estimat",
        "col_ci": "95 %-KI",
        "col_p": "p",
        "col_hr": "HR",
        "col_analysis": "Analyse",
        "h_diagnostics": "Diagnostik og kontroller",
        "col_check": "Kontrol",
        "col_value": "Værdi",
        "diag_persons_contacted": "Personer i risiko ved start, kontakt",
        "diag_persons_comparison": "Personer i risiko ved start, sammenligning",
        "diag_events_contacted": "Hændelser, kontakt",
        "diag_events_comparison": "Hændelser, sammenligning",
        "diag_ph": "Proportionale hazards, global p (Schoenfeld)",
        "diag_mde": "Mindste påviselige hazard ratio (80 % styrke), i gavnlig retning",
        "diag_evalue": "E-værdi, punktestimat",
        "diag_evalue_ci": "E-værdi, KI-grænse",
        "col_passed": "Bestået",
        "h_toc": "Indhold",
        "diag_smd": "Største SMD efter matchning",
        "gate_balance": "Balance",
        "gate_overlap": "Overlap",
        "gate_proportional_hazards": "Proportionale hazards",
        "gate_enough_events": "Nok hændelser",
        "gate_passed": "Alle bestået",
        "gate_estimated": "Estimeret",
        "gate_matched_share": "Sammenligning fundet for nok",
        "h_coverage": "Hvem resultatet dækker: matchede mod alle med kontakt",
        "coverage_intro": "De unge med kontakt, der fik en sammenligning, mod alle unge med kontakt, der opfyldte kriterierne: gennemsnit ved indeksdatoen og standardiseret forskel (matchede minus alle). Resultaterne gælder de matchede.",
        "col_all_eligible": "Alle med kontakt (opfylder kriterierne)",
        "col_matched_contacted": "Matchede med kontakt",
        "col_smd_matched_all": "SMD, matchede mod alle",
        "col_age": "Alder ved indeks",
        "not_estimated": "ikke estimeret",
        "ne_no_events": "ikke estimeret: ingen hændelser i en gruppe",
        "ne_not_converged": "ikke estimeret: modellen konvergerede ikke",
        "ne_separation": "ikke estimeret: estimatet løber løbsk (separation)",
        "ne_failed": "ikke estimeret: modellen kunne ikke tilpasses",
        "forest_not_estimated": "Ikke i figuren, fordi effekten ikke kunne estimeres: {labels}.",
        "h_naive": "Naiv mod matchet",
        "col_outcome": "Udfald",
        "col_hr_matched": "HR matchet (95 %-KI)",
        "col_hr_naive": "HR naiv (95 %-KI)",
        "col_rd_matched": "Risikoforskel matchet, pp",
        "col_rd_naive": "Risikoforskel naiv, pp",
        "h_forest": "Oversigt over estimater",
        "h_figures": "Figurer fra resultatpakken",
        "h_manifest": "Manifest (sporbarhed)",
        "col_key": "Nøgle",
        "missing_table": "(tabellen {name} findes ikke i resultatpakken)",
        # council report: summary first, whom it covers, words, results for 100 young people
        "h_summary": "Kort fortalt",
        "summary_fewer": "{label}: Færre af de unge med kontakt {event} end af lignende unge uden kontakt.",
        "summary_more": "{label}: Flere af de unge med kontakt {event} end af lignende unge uden kontakt.",
        "summary_harm": "Det er et skadeligt resultat.",
        "summary_no_difference": (
            "{label}: Vi kan endnu ikke se en forskel mellem de unge med kontakt og lignende unge "
            "uden kontakt, som ikke lige så godt kan skyldes tilfældigheder."
        ),
        "summary_not_yet": "{label}: Vi kan endnu ikke sige, om kontakten gør en forskel, fordi {reasons}.",
        "h_covers": "Hvem handler rapporten om?",
        "population_text": "{label}: {who} ({n_c} med kontakt og {n_k} lignende unge uden kontakt).",
        "h_words": "Ord i rapporten",
        "event_generic": "fik hændelsen",
        "population_generic": "kun unge, der kunne følges for dette udfald",
        "word_comparison": (
            "Sammenligningsgruppe: unge, der på samme dato lignede de unge med kontakt (alder, "
            "køn, tidligere sigtelser, uddannelse og job), men som ikke fik kontakt."
        ),
        "word_chance": (
            "Tilfældigheder: selv uden nogen effekt får to grupper sjældent præcis samme tal. "
            "En forskel, der ikke kan skelnes fra tilfældigheder, kan lige så godt være opstået sådan."
        ),
        "word_interval": (
            "Usikkerhed: tallene kommer fra få unge, så den sande forskel kendes ikke præcist. "
            "Vi angiver det spænd, som den med stor sandsynlighed (95 %) ligger i; fagordet er "
            "et 95 %-konfidensinterval."
        ),
        "h_results": "Resultaterne område for område",
        "within_year": "et år",
        "within_months": "{months} måneder",
        "diff_fewer": "{n} færre",
        "diff_more": "{n} flere",
        "diff_none": "ingen forskel",
        "per100_text": (
            "For hver 100 unge som dem, der fik kontakt, var der omkring {c}, der {event} inden "
            "for {within}, mod omkring {k} blandt lignende unge uden kontakt. Den sande forskel "
            "ligger med stor sandsynlighed mellem {lo} og {hi} pr. 100."
        ),
        "per100_chance": "Det spænd rummer både færre og flere, så forskellen kan skyldes tilfældigheder.",
        "per100_not_chance": "Hele spændet ligger på samme side, så forskellen skyldes næppe tilfældigheder.",
        "per100_harm": (
            "Hele spændet ligger på samme side: det er et skadeligt resultat, for kontakten "
            "hænger sammen med mere af det, den skulle mindske, eller mindre af det, den skulle øge."
        ),
        "per100_not_yet": "{label} inden for {within}: tallene kan endnu ikke vises, fordi {reasons}.",
        "caption_per100": (
            "Søjlerne viser, hvor mange ud af 100 i hver gruppe der {event} inden for {within}; "
            "de sorte streger viser usikkerheden."
        ),
        "caption_per100_chance": (
            "Søjlerne viser, hvor mange ud af 100 i hver gruppe der {event} inden for {within}; "
            "de sorte streger viser usikkerheden. Søjlerne er ikke lige lange, men forskellen er "
            "lille i forhold til usikkerheden og kan skyldes tilfældigheder: figuren viser ikke, "
            "at kontakten gør en forskel."
        ),
        "fig_contacted": "Med kontakt",
        "fig_comparison": "Lignende unge\nuden kontakt",
        "fig_per100_value": "{n} ud af 100",
        "fig_per100_axis": "Antal ud af 100 unge",
        "alt_per100": (
            "Figur om {label}: omkring {c} ud af 100 unge med kontakt og omkring {k} ud af 100 "
            "lignende unge uden kontakt {event} inden for {within}."
        ),
        # alt text of figures (what the figure shows and its main numbers)
        "alt_curve": (
            "Figur: andelen med {label} måned for måned efter første kontakt, for unge med "
            "kontakt (blå) og sammenligningsgruppen (rød), med usikkerhed som skygge og antal "
            "fulgt under figuren."
        ),
        "alt_survival": (
            "Figur: andelen endnu uden {label} måned for måned efter første kontakt, for unge "
            "med kontakt (blå) og sammenligningsgruppen (rød), med antal fulgt under figuren."
        ),
        "alt_numbers": "Efter {months} måneder: {pct_c} med kontakt og {pct_k} i sammenligningsgruppen.",
        "alt_no_numbers": "Tallene efter {months} måneder kan endnu ikke vises.",
        "alt_balance": (
            "Figur: standardiserede forskelle mellem grupperne for hver baggrundsvariabel før og "
            "efter matchning; den største efter matchning er {smd_after} (grænsen er 0,1)."
        ),
        "alt_overlap": (
            "Figur: fordelingen af sandsynligheden for kontakt (propensity score) i de to grupper, "
            "før og efter matchning."
        ),
        "alt_forest": (
            "Figur: hazard ratio med 95 %-konfidensinterval for hvert udfald, matchet og naiv "
            "sammenligning; 1 betyder ingen forskel."
        ),
        "alt_figure": "Figur: {name}.",
    },
    "en": {
        "title_quarterly": "Knock Knock and Taskforce: quarterly report {quarter}",
        "title_technical": "Knock Knock and Taskforce: technical appendix {quarter}",
        "subtitle": "{study}. Data up to and including {data_end}.",
        "h_contacts": "Contacts in numbers",
        "contacts_intro": (
            "In {quarter}, {n_quarter} young people had their first contact. Since the initiative "
            "began ({start}), {n_total} young people in all have been contacted."
        ),
        "contacts_intro_nostart": (
            "In {quarter}, {n_quarter} young people had their first contact; {n_total} in all have been contacted."
        ),
        "contacts_note": (
            "Numbers below {threshold} are not shown, and further numbers are hidden so that the "
            "hidden ones cannot be worked out from totals or other numbers in the report."
        ),
        "suppressed_note": (
            "{mark} = not shown: a number below {threshold} persons, or a number hidden because a "
            "small number could otherwise be worked out from it."
        ),
        "h_findings": "What do the numbers show so far?",
        "findings_intro": (
            "For each area we compare the young people who were contacted with a comparison group "
            "of similar young people who had not been contacted on the same date."
        ),
        "h_box": "What these results can and cannot tell you",
        "box_can_1": "They compare contacted young people with similar young people not contacted at the same time.",
        "box_can_2": "They show how uncertain the numbers are, and when we cannot yet say anything.",
        "box_cannot_1": (
            "They cannot fully rule out that differences come from things the registers do not "
            "show (for example family, friends, motivation)."
        ),
        "box_cannot_2": "They say nothing about any single young person, only about groups.",
        "box_cannot_3": "Small numbers are hidden to protect the young people's privacy.",
        "h_figure": "Over time",
        "figure_caption": (
            "Share with {label} after the first contact (or the same date in the comparison group). "
            "The numbers below the figure are the young people still followed; numbers below "
            "{floor} are not shown, the curve stops when fewer than {floor} are followed, and each "
            "step gathers at least {threshold} events."
        ),
        "h_comparison": "How the comparison group is chosen",
        "comparison_text": (
            "Each contacted young person is compared with up to {ratio} young people who, on the "
            "date of the contact, lived in the area, were of the same sex and similar age, "
            "and were similar in earlier charges, custody, education and jobs "
            "and links to criminal groups - but had not been contacted. Both groups are followed "
            "from the same date. If a young person in the comparison group is contacted later, "
            "their follow-up in the comparison group stops."
        ),
        "comparison_coverage": (
            "A similar young person without contact could be found for {n_matched} of the "
            "{n_eligible} contacted young people. The results are about them; contacted young "
            "people who resemble nobody without contact (often those at highest risk) are not in "
            "the comparison."
        ),
        "comparison_text_iptw": (
            "Contacted young people are compared with all young people in the area who could "
            "have been contacted at the same time but were not. The comparison group is weighted "
            "so that it resembles the contacted in age, sex, earlier charges, custody, education "
            "and jobs and links to criminal groups. Both groups are followed from the same date."
        ),
        "h_asof": "Data and when to expect an answer",
        "asof_text": "This report uses data up to and including {data_end}.",
        "dq_council": "{n_bad} of {n_read} records in the registers could not be used (for "
                      "example a missing or unreadable CPR number or a date that cannot be read) "
                      "and are left out of the numbers.",
        "h_data_quality": "Records that could not be used",
        "dq_intro": "Rows read, written to the warehouse and quarantined (could not be used) per "
                    "source, with the reason. A source with a larger share quarantined than "
                    "{share} stops the run.",
        "dq_unavailable": "The warehouse was not made by `evaluation pseudonymise`; there is no "
                          "record of rows that could not be used.",
        "col_source": "Source",
        "col_rows_read": "Read",
        "col_rows_written": "Used",
        "col_rows_quarantined": "Not used",
        "col_reason_quarantine": "Reason",
        "mde_text": (
            "{label}: with the present numbers a difference can only be told from chance if "
            "contact at least {effect}."
        ),
        "effect_down": "lowers the risk to {pct} of the comparison group's",
        "effect_up": "raises the chance to {times} times the comparison group's",
        "mde_missing": "{label}: the minimum detectable effect cannot be computed yet.",
        "mde_note": (
            "The more young people and events, the smaller the effects that can be told from "
            "chance; the number moves closer to 100% every quarter. Similar youth programmes "
            "mostly find that the risk falls to between 80% and 100% of the comparison group's, "
            "so a clear answer can only be expected once the number here is up around 80%."
        ),
        "within": "within {months} months",
        "finding_not_yet": (
            "{label} {within}: we cannot yet say whether contact makes a difference, because {reasons}."
        ),
        "finding_no_difference": (
            "{label} {within}: {pct_c} of contacted young people and {pct_k} of the comparison group; "
            "the difference ({rd} percentage points, 95% confidence interval {lo} to {hi}) cannot "
            "yet be told from chance."
        ),
        "finding_fewer_good": (
            "{label} {within}: fewer among contacted young people, {pct_c} against {pct_k} in the "
            "comparison group ({rd} percentage points fewer, 95% confidence interval {lo} to {hi})."
        ),
        "finding_more_good": (
            "{label} {within}: more among contacted young people, {pct_c} against {pct_k} in the "
            "comparison group ({rd} percentage points more, 95% confidence interval {lo} to {hi})."
        ),
        "finding_more_harm": (
            "{label} {within}: more among contacted young people, {pct_c} against {pct_k} in the "
            "comparison group ({rd} percentage points more, 95% confidence interval {lo} to {hi}). "
            "This is a harmful result: contact goes with more of what it should reduce."
        ),
        "finding_fewer_harm": (
            "{label} {within}: fewer among contacted young people, {pct_c} against {pct_k} in the "
            "comparison group ({rd} percentage points fewer, 95% confidence interval {lo} to {hi}). "
            "This is a harmful result: contact goes with less of what it should increase."
        ),
        "reason_balance": "the groups are not yet similar enough",
        "reason_overlap": "the groups overlap too little in their chance of being contacted",
        "reason_proportional_hazards": "the difference between the groups changes over time in a way the model cannot describe",
        "reason_enough_events": "there are too few events yet",
        "reason_negative_controls": "the method finds differences in outcomes contact cannot change",
        "gate_negative_controls": "Negative controls",
        "self_checks_passed": (
            "The method passed its own checks: it found no difference in outcomes that contact "
            "cannot change, and no effect before the initiative began."
        ),
        "self_checks_failed": (
            "The method failed its own checks: it found differences in outcomes that contact "
            "cannot change, or an effect before the initiative began, so the figures above must "
            "be read with great caution."
        ),
        "self_checks_not_evaluated": "The method's own checks could not be run yet.",
        "h_estimands": "Estimands",
        "estimand_primary": "primary",
        "col_estimand": "Estimand",
        "h_negative_controls": "Negative controls and empirical calibration",
        "nc_null": (
            "Empirical null (log risk ratio, {n} negative controls): mean {mean}, SD {sd}; expected "
            "absolute systematic error {ease} (bound {bound})."
        ),
        "h_placebo": "Placebo index (fake start {start} to {end})",
        "h_subgroups": "Subgroups (declared in the analysis plan)",
        "subgroups_warning": (
            "Warning: {k} subgroup splits are tested; with that many tests one of them will often "
            "appear to differ by chance alone."
        ),
        "subgroups_hidden": "{dimension}: not shown ({reason}).",
        "col_subgroup": "Subgroup",
        "col_interaction": "Interaction, p",
        "h_rosenbaum": "Sensitivity to hidden confounding (Rosenbaum)",
        "rosenbaum_gamma": (
            "{label}: the conclusion holds until a hidden factor changes the odds of contact within "
            "a matched set by a factor Gamma = {gamma}."
        ),
        "rosenbaum_none": "{label}: the difference is not significant even without hidden confounding (Gamma = 1).",
        "col_weights": "Weights (quantiles)",
        "col_log_rr": "Log risk ratio",
        "subgroup_reason_too_few_events": "fewer than {n} events in an arm of a subgroup",
        "subgroup_reason_too_few_groups": "fewer than two subgroups",
        "subgroup_reason_not_in_cohort": "not in the cohort",
        "col_before_truncation": "Before truncation",
        "col_after_truncation": "After truncation",
        "reason_estimate_missing": "the estimate is missing from the results",
        "reason_small_numbers": "the numbers are too small to be shown",
        "reason_other": "a check has not passed ({name})",
        "reason_estimated": "the effect could not be estimated",
        "reason_matched_share": "a comparison was found for too few of the contacted youths",
        "reason_no_match": "no similar young person without contact could be found yet for any of the contacted youths",
        "finding_population": "Among the {n} contacted youths who were matched with a comparison (of {n_eligible} eligible contacted youths):",
        "and": "and",
        "col_category": "Category",
        "col_quarter": "{quarter}",
        "col_cumulative": "In all since start",
        "col_n": "Number",
        "col_pct": "Share",
        "row_total": "Total",
        "dim_total": "All",
        "dim_sex": "Sex",
        "dim_age_band": "Age",
        "dim_contact_type": "Type of contact",
        "dim_referred_to": "Referred to",
        "arm_contacted": "Contacted",
        "arm_comparison": "Comparison",
        "months": "{months} mo.",
        "axis_time": "Months after first contact",
        "axis_share": "Share with event",
        "axis_survival": "Share still without event",
        "axis_propensity": "Propensity score",
        "axis_share_of_arm": "Share of group",
        "axis_smd": "Absolute standardised mean difference",
        "axis_hr": "Hazard ratio, contacted vs comparison (log scale)",
        "figure_data": "The numbers behind the figure",
        "col_month": "Month",
        "col_share": "Share",
        "legend_before": "Before matching",
        "legend_after": "After matching",
        "h_disclosure": "Protection of small numbers",
        "disclosure_text": (
            "Every number in both reports was checked together: numbers below {threshold} are not "
            "shown; linked numbers (parts and total, attrition steps, cohort and outcome "
            "populations, matched and unmatched, the quarter and the whole period, earlier "
            "quarters' reports) were checked with a linear programme, and further numbers were "
            "hidden until no small number can be worked out; shares, means, risks and curves are "
            "shown only when the counts behind them are at least {threshold}; curves are drawn only "
            "while at least {floor} are followed, with steps of at least {threshold} events. The "
            "rules and how many numbers each decided:"
        ),
        "disclosure_override": "The threshold {threshold} is below 3 by an explicit reason: {reason}.",
        "col_rule": "Rule",
        "col_cells": "Numbers",
        "at_risk": "Number followed",
        "h_design": "Design",
        "design_text": (
            "Design: {design}. Contacted: {n_c}; comparison: {n_k}; matched sets: {n_sets}; "
            "ratio 1:{ratio}. Largest standardised mean difference before matching {smd_before}, after {smd_after}."
        ),
        "h_attrition": "Attrition (who is in)",
        "col_step": "Step",
        "col_reason": "Reason",
        "col_excluded": "Excluded",
        "row_start": "Before selection",
        "row_end": "In the analysis",
        "h_balance": "Balance between the groups",
        "col_covariate": "Covariate",
        "col_smd_before": "SMD before",
        "col_smd_after": "SMD after",
        "col_mean_contacted": "Mean contacted",
        "col_mean_comparison": "Mean comparison",
        "col_before": "before",
        "col_after": "after",
        "h_overlap": "Propensity score overlap",
        "col_arm": "Group",
        "col_matched": "Matched",
        "col_persons": "Persons",
        "col_ps_p05": "P5",
        "col_ps_median": "Median",
        "col_ps_p95": "P95",
        "yes": "yes",
        "no": "no",
        "h_outcome": "{label}",
        "h_curve": "Cumulative incidence and survival with numbers followed",
        "h_models": "Models (matched and naive)",
        "col_model": "Model",
        "col_term": "Term",
        "col_group": "Group",
        "col_time": "Time (days)",
        "col_estimate": "Estimate",
        "col_ci": "95% CI",
        "col_p": "p",
        "col_hr": "HR",
        "col_analysis": "Analysis",
        "h_diagnostics": "Diagnostics and checks",
        "col_check": "Check",
        "col_value": "Value",
        "diag_persons_contacted": "Persons at risk at start, contacted",
        "diag_persons_comparison": "Persons at risk at start, comparison",
        "diag_events_contacted": "Events, contacted",
        "diag_events_comparison": "Events, comparison",
        "diag_ph": "Proportional hazards, global p (Schoenfeld)",
        "diag_mde": "Minimum detectable hazard ratio (80% power), in the beneficial direction",
        "diag_evalue": "E-value, point estimate",
        "diag_evalue_ci": "E-value, CI limit",
        "col_passed": "Passed",
        "h_toc": "Contents",
        "diag_smd": "Largest SMD after matching",
        "gate_balance": "Balance",
        "gate_overlap": "Overlap",
        "gate_proportional_hazards": "Proportional hazards",
        "gate_enough_events": "Enough events",
        "gate_passed": "All passed",
        "gate_estimated": "Estimated",
        "gate_matched_share": "Comparison found for enough",
        "h_coverage": "Whom the result covers: matched against all contacted",
        "coverage_intro": "The contacted youths who were matched with a comparison against all eligible contacted youths: means at the index date and the standardised difference (matched minus all). The results describe the matched.",
        "col_all_eligible": "All eligible contacted",
        "col_matched_contacted": "Matched contacted",
        "col_smd_matched_all": "SMD, matched vs all",
        "col_age": "Age at index",
        "not_estimated": "not estimated",
        "ne_no_events": "not estimated: no events in a group",
        "ne_not_converged": "not estimated: the model did not converge",
        "ne_separation": "not estimated: the estimate runs off (separation)",
        "ne_failed": "not estimated: the model could not be fitted",
        "forest_not_estimated": "Not in the figure because the effect could not be estimated: {labels}.",
        "h_naive": "Naive versus matched",
        "col_outcome": "Outcome",
        "col_hr_matched": "HR matched (95% CI)",
        "col_hr_naive": "HR naive (95% CI)",
        "col_rd_matched": "Risk difference matched, pp",
        "col_rd_naive": "Risk difference naive, pp",
        "h_forest": "Overview of estimates",
        "h_figures": "Figures from the results bundle",
        "h_manifest": "Manifest (traceability)",
        "col_key": "Key",
        "missing_table": "(the table {name} is not in the results bundle)",
        "h_summary": "In brief",
        "summary_fewer": "{label}: Fewer of the contacted young people {event} than of similar young people not contacted.",
        "summary_more": "{label}: More of the contacted young people {event} than of similar young people not contacted.",
        "summary_harm": "This is a harmful result.",
        "summary_no_difference": (
            "{label}: We cannot yet see a difference between contacted young people and similar "
            "young people not contacted that could not just as well be chance."
        ),
        "summary_not_yet": "{label}: We cannot yet say whether contact makes a difference, because {reasons}.",
        "h_covers": "Whom this report is about",
        "population_text": "{label}: {who} ({n_c} contacted and {n_k} similar young people not contacted).",
        "h_words": "Words used in this report",
        "event_generic": "had the event",
        "population_generic": "only young people who could be followed for this outcome",
        "word_comparison": (
            "Comparison group: young people who, on the same date, were similar to the contacted "
            "ones (age, sex, earlier charges, education and jobs) but were not contacted."
        ),
        "word_chance": (
            "Chance: even with no effect at all, two groups rarely get exactly the same numbers. "
            "A difference that cannot be told from chance may just as well have come about that way."
        ),
        "word_interval": (
            "Uncertainty: the numbers come from few young people, so the true difference is not "
            "known exactly. We give the range it most likely (95%) lies in; the technical term is "
            "a 95% confidence interval."
        ),
        "h_results": "The results, area by area",
        "within_year": "a year",
        "within_months": "{months} months",
        "diff_fewer": "{n} fewer",
        "diff_more": "{n} more",
        "diff_none": "no difference",
        "per100_text": (
            "For every 100 young people like those contacted, about {c} {event} within {within}, "
            "against about {k} among similar young people not contacted. The true difference "
            "most likely lies between {lo} and {hi} per 100."
        ),
        "per100_chance": "That range holds both fewer and more, so the difference may be chance.",
        "per100_not_chance": "The whole range lies on one side, so the difference is unlikely to be chance.",
        "per100_harm": (
            "The whole range lies on one side: this is a harmful result, because contact goes with "
            "more of what it should reduce, or less of what it should increase."
        ),
        "per100_not_yet": "{label} within {within}: the numbers cannot be shown yet, because {reasons}.",
        "caption_per100": (
            "The bars show how many out of 100 in each group {event} within {within}; the black "
            "lines show the uncertainty."
        ),
        "caption_per100_chance": (
            "The bars show how many out of 100 in each group {event} within {within}; the black "
            "lines show the uncertainty. The bars differ in length, but the difference is small "
            "against the uncertainty and may be chance: the figure does not show that contact "
            "makes a difference."
        ),
        "fig_contacted": "Contacted",
        "fig_comparison": "Similar young people\nnot contacted",
        "fig_per100_value": "{n} out of 100",
        "fig_per100_axis": "Number out of 100 young people",
        "alt_per100": (
            "Figure on {label}: about {c} out of 100 contacted young people and about {k} out of "
            "100 similar young people not contacted {event} within {within}."
        ),
        "alt_curve": (
            "Figure: the share with {label} month by month after the first contact, for "
            "contacted young people (blue) and the comparison group (red), with uncertainty "
            "shaded and the numbers followed below the figure."
        ),
        "alt_survival": (
            "Figure: the share still without {label} month by month after the first contact, "
            "for contacted young people (blue) and the comparison group (red), with the numbers "
            "followed below the figure."
        ),
        "alt_numbers": "After {months} months: {pct_c} of the contacted and {pct_k} of the comparison group.",
        "alt_no_numbers": "The numbers after {months} months cannot be shown yet.",
        "alt_balance": (
            "Figure: standardised differences between the groups for each covariate before and "
            "after matching; the largest after matching is {smd_after} (the limit is 0.1)."
        ),
        "alt_overlap": (
            "Figure: the distribution of the chance of being contacted (propensity score) in the "
            "two groups, before and after matching."
        ),
        "alt_forest": (
            "Figure: hazard ratio with 95% confidence interval for each outcome, matched and "
            "naive comparison; 1 means no difference."
        ),
        "alt_figure": "Figure: {name}.",
    },
}


#: Texts of the tracking series (evaluation.report.tracking) and of the boundary of repeated
#: looks in the findings; merged into TEXTS.
_TRACKING_TEXTS: dict[str, dict[str, str]] = {
    "da": {
        "finding_not_beyond_boundary": (
            "{label} {within}: {pct_c} af de unge med kontakt og {pct_k} i sammenligningsgruppen "
            "({rd} procentpoint, 95 %-konfidensinterval {lo} til {hi}). Fordi vi ser på tallene "
            "hvert kvartal, kræver en konklusion en større sikkerhed end et almindeligt "
            "95 %-interval på dette tidspunkt; den er endnu ikke nået."
        ),
        "trk_tracking_missing": "(Udviklingen over kvartaler er ikke beregnet for dette kvartal; kør `evaluation track`.)",
        "trk_not_built": (
            "For {quarters} kunne der ikke beregnes resultater (f.eks. fordi ingen unge med kontakt "
            "endnu kunne indgå i sammenligningen); de kvartaler er ikke med."
        ),
        "trk_not_yet_known": "endnu ikke kendt",
        "trk_h_trajectory": "Sådan har svaret udviklet sig",
        "trk_trajectory_intro": (
            "Figurerne viser for hvert område forskellen mellem de unge med kontakt og "
            "sammenligningsgruppen, kvartal for kvartal siden indsatsen begyndte. Punktet er "
            "forskellen i procentpoint, stregen dens 95 %-konfidensinterval, og den vandrette "
            "linje er nul: ingen forskel."
        ),
        "trk_trajectory_caption": (
            "{label}: {n} af {total} kvartaler har et resultat, der kan vises; i de øvrige kunne "
            "vi endnu ikke sige noget (for få hændelser, eller et af kvalitetstjekkene holdt ikke)."
        ),
        "trk_h_expected": "Hvornår kan vi forvente et svar?",
        "trk_expected_now": (
            "{label}: tallene er allerede store nok til at opdage en virkning på {size}, hvis den "
            "findes."
        ),
        "trk_expected_quarter": (
            "{label}: et svar (om kontakten ændrer risikoen med {size}) kan forventes omkring {quarter}."
        ),
        "trk_expected_no_events": (
            "{label}: der er endnu ingen hændelser at regne på, så vi kan ikke sige, hvornår et "
            "svar kan forventes."
        ),
        "trk_expected_not_within": (
            "{label}: med det nuværende antal unge kan et svar (om kontakten ændrer risikoen med "
            "{size}) ikke forventes inden for tre år."
        ),
        "trk_expected_note": (
            "Beregnet ud fra, hvor mange unge der hidtil er kommet til hvert kvartal, og hvor ofte "
            "hændelserne sker i hver gruppe, med den sikkerhed, der kræves, når vi ser på tallene "
            "hvert kvartal. Udbredte ungdomsindsatser finder typisk virkninger af denne størrelse "
            "eller mindre."
        ),
        "trk_h_process": "Når indsatsen de unge hurtigt?",
        "trk_col_indicator": "Mål",
        "trk_col_quarter": "Kvartal",
        "trk_col_value": "Seneste kvartal",
        "trk_col_persons": "Personer",
        "trk_col_since_start": "Siden start",
        "trk_ind_reach_within_14": "Kontaktet inden for 14 dage efter en udløsende hændelse",
        "trk_ind_reach_within_30": "Kontaktet inden for 30 dage",
        "trk_ind_reach_within_90": "Kontaktet inden for 90 dage",
        "trk_ind_speed_median": "Dage fra seneste udløsende hændelse til første kontakt",
        "trk_ind_activation_contacted": "Henvist til uddannelse, job eller fritid: startet uddannelse eller job inden for 90 dage",
        "trk_ind_activation_comparison": "Det samme i sammenligningsgruppen (samme dage)",
        "trk_ind_repeat_contacts_per_person": "Kontakter pr. ung inden for 6 måneder",
        "trk_ind_repeat_seen_again": "Set igen inden for 6 måneder",
        "trk_ind_days": "{median} (kvartiler {q1}-{q3})",
        "trk_process_note": (
            "En udløsende hændelse er en sigtelse for vold eller våben eller en sag sammen med et "
            "registreret bandemedlem, for unge på 14-25 år i kommunen, der ikke havde haft kontakt "
            "før. Andelen kontaktet vises først, når 90 dage er gået for alle i kvartalet. Tal under "
            "{threshold} og tal, der kan regnes ud af forskellen til tidligere offentliggjorte tal, "
            "vises som \"•\", og det samme gælder en andel, når de unge med eller uden er færre end "
            "{threshold}; medianer vises kun for mindst {min_quantiles} unge."
        ),
        "trk_h_trajectory_table": "Udviklingen over kvartaler",
        "trk_col_family": "Område",
        "trk_col_contacted": "Kontaktet i alt",
        "trk_col_matched": "Matchet",
        "trk_col_events_c": "Hændelser, kontakt",
        "trk_col_events_k": "Hændelser, sammenligning",
        "trk_col_rd": "Forskel, procentpoint (95 %-KI)",
        "trk_col_hr": "HR (95 %-KI)",
        "trk_col_mde": "Mindste påviselige HR",
        "trk_col_gates": "Tjek bestået",
        "trk_col_z": "z / grænse",
        "trk_col_version": "Version",
        "trk_yes": "ja",
        "trk_no": "nej",
        "trk_not_estimated_short": "ikke estimeret",
        "trk_trajectory_table_note": (
            "Hver række er læst fra kvartalets gemte resultatpakke (version = de første 12 tegn af "
            "SHA-256 af dens manifest). Forskellen er risikoforskellen ved den primære horisont i "
            "den matchede analyse; z = forskel / standardfejl. Et fund (\"virker\" eller \"skader\") "
            "kræver |z| mindst lig grænsen for kvartalets kig. Antal, hvis forskel til det forrige "
            "viste tal i samme række er lille, skjules."
        ),
        "trk_h_boundaries": "Gentagne kig: grænser",
        "trk_boundaries_intro": (
            "{families}: {looks} planlagte kvartalsvise kig, {spending}, samlet tosidet "
            "signifikansniveau {alpha}."
        ),
        "trk_spending_obrien_fleming": "Lan-DeMets forbrugsfunktion af O'Brien-Fleming-typen",
        "trk_spending_pocock": "Lan-DeMets forbrugsfunktion af Pocock-typen",
        "trk_col_look": "Kig",
        "trk_col_fraction": "Informationsandel",
        "trk_col_boundary": "Grænse (|z|)",
        "trk_col_nominal": "Nominelt niveau",
        "trk_col_spent": "Brugt alfa",
        "trk_boundaries_note": (
            "Kig k af K ligger ved informationsandel k/K (kalendertid), så grænserne ligger fast, "
            "før data ses. ∞: intet alfa at bruge ved dette kig (intet fund muligt)."
        ),
    },
    "en": {
        "finding_not_beyond_boundary": (
            "{label} {within}: {pct_c} of contacted young people and {pct_k} of the comparison "
            "group ({rd} percentage points, 95% confidence interval {lo} to {hi}). Because we look "
            "at the numbers every quarter, a conclusion at this point needs more certainty than an "
            "ordinary 95% interval; that has not been reached yet."
        ),
        "trk_tracking_missing": "(The development over quarters has not been computed for this quarter; run `evaluation track`.)",
        "trk_not_built": (
            "No results could be computed for {quarters} (for example, because no contacted young "
            "person could yet enter the comparison); those quarters are left out."
        ),
        "trk_not_yet_known": "not yet known",
        "trk_h_trajectory": "How the answer has developed",
        "trk_trajectory_intro": (
            "For each area, the figures show the difference between contacted young people and the "
            "comparison group, quarter by quarter since the initiative began. The dot is the "
            "difference in percentage points, the line its 95% confidence interval, and the "
            "horizontal line is zero: no difference."
        ),
        "trk_trajectory_caption": (
            "{label}: {n} of {total} quarters have a result that can be shown; for the others we "
            "could not yet say anything (too few events, or one of the quality checks failed)."
        ),
        "trk_h_expected": "When can we expect an answer?",
        "trk_expected_now": (
            "{label}: the numbers are already large enough to detect an effect of {size}, if there "
            "is one."
        ),
        "trk_expected_quarter": (
            "{label}: an answer (whether contact changes the risk by {size}) can be expected around "
            "{quarter}."
        ),
        "trk_expected_no_events": (
            "{label}: there are no events to count yet, so we cannot say when an answer can be "
            "expected."
        ),
        "trk_expected_not_within": (
            "{label}: at the current number of young people, an answer (whether contact changes "
            "the risk by {size}) cannot be expected within three years."
        ),
        "trk_expected_note": (
            "Computed from how many young people have joined each quarter so far and how often the "
            "events happen in each group, with the certainty needed when the numbers are looked at "
            "every quarter. Published youth programmes usually find effects of this size or smaller."
        ),
        "trk_h_process": "Does the initiative reach young people quickly?",
        "trk_col_indicator": "Measure",
        "trk_col_quarter": "Quarter",
        "trk_col_value": "Latest quarter",
        "trk_col_persons": "Persons",
        "trk_col_since_start": "Since the start",
        "trk_ind_reach_within_14": "Contacted within 14 days of a triggering event",
        "trk_ind_reach_within_30": "Contacted within 30 days",
        "trk_ind_reach_within_90": "Contacted within 90 days",
        "trk_ind_speed_median": "Days from the latest triggering event to the first contact",
        "trk_ind_activation_contacted": "Referred to education, a job or leisure: started education or a job within 90 days",
        "trk_ind_activation_comparison": "The same in the comparison group (same days)",
        "trk_ind_repeat_contacts_per_person": "Contacts per young person within 6 months",
        "trk_ind_repeat_seen_again": "Seen again within 6 months",
        "trk_ind_days": "{median} (quartiles {q1}-{q3})",
        "trk_process_note": (
            "A triggering event is a violence or weapons charge or a case shared with a registered "
            "group member, for young people aged 14-25 in the municipality who had not been "
            "contacted before. The share contacted is shown once 90 days have passed for everyone "
            "in the quarter. Numbers below {threshold}, and numbers that could be worked out from "
            "the difference to numbers published before, are shown as \"•\", and so is a share when "
            "those with or without are fewer than {threshold}; medians are shown for at least "
            "{min_quantiles} young people only."
        ),
        "trk_h_trajectory_table": "Development over quarters",
        "trk_col_family": "Area",
        "trk_col_contacted": "Contacted in all",
        "trk_col_matched": "Matched",
        "trk_col_events_c": "Events, contacted",
        "trk_col_events_k": "Events, comparison",
        "trk_col_rd": "Difference, points (95% CI)",
        "trk_col_hr": "HR (95% CI)",
        "trk_col_mde": "Minimum detectable HR",
        "trk_col_gates": "Checks passed",
        "trk_col_z": "z / boundary",
        "trk_col_version": "Version",
        "trk_yes": "yes",
        "trk_no": "no",
        "trk_not_estimated_short": "not estimated",
        "trk_trajectory_table_note": (
            "Each row is read from the quarter's kept results bundle (version = the first 12 "
            "characters of the SHA-256 of its manifest). The difference is the risk difference at "
            "the primary horizon in the matched analysis; z = difference / standard error. A "
            "finding (\"works\" or \"harms\") needs |z| at least the boundary of the quarter's look. "
            "Counts whose difference to the previous count shown in the same row is small are hidden."
        ),
        "trk_h_boundaries": "Repeated looks: boundaries",
        "trk_boundaries_intro": (
            "{families}: {looks} planned quarterly looks, {spending}, overall two-sided "
            "significance level {alpha}."
        ),
        "trk_spending_obrien_fleming": "Lan-DeMets spending function of the O'Brien-Fleming type",
        "trk_spending_pocock": "Lan-DeMets spending function of the Pocock type",
        "trk_col_look": "Look",
        "trk_col_fraction": "Information fraction",
        "trk_col_boundary": "Boundary (|z|)",
        "trk_col_nominal": "Nominal level",
        "trk_col_spent": "Alpha spent",
        "trk_boundaries_note": (
            "Look k of K lies at information fraction k/K (calendar time), so the boundaries are "
            "fixed before the data are seen. ∞: no alpha to spend at this look (no finding possible)."
        ),
    },
}
for _lang, _texts in _TRACKING_TEXTS.items():
    TEXTS[_lang].update(_texts)

#: Labels of category codes in the contacts table; unknown codes are shown as they are.
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "da": {
        "all": "Alle", "M": "Mænd", "F": "Kvinder", "male": "Mænd", "female": "Kvinder",
        "knock_knock": "Knock Knock", "taskforce_followup": "Opfølgning fra Taskforce",
        "ssp": "SSP", "other": "Andet", "leisure": "Fritid", "education": "Uddannelse",
        "employment": "Beskæftigelse", "treatment": "Behandling", "none": "Ingen henvisning",
        "reoffending": "Ny kriminalitet", "education_job": "Uddannelse eller job",
        "group_recruitment": "Rekruttering til kriminelle grupper",
        "risk_set_matching": "sekventiel (risk-set) matchning", "iptw": "vægtning (IPTW)",
    },
    "en": {
        "all": "All", "M": "Men", "F": "Women", "male": "Men", "female": "Women",
        "knock_knock": "Knock Knock", "taskforce_followup": "Taskforce follow-up",
        "ssp": "SSP", "other": "Other", "leisure": "Leisure", "education": "Education",
        "employment": "Employment", "treatment": "Treatment", "none": "No referral",
        "reoffending": "Reoffending", "education_job": "Education or job",
        "group_recruitment": "Recruitment into criminal groups",
        "risk_set_matching": "sequential (risk-set) matching", "iptw": "weighting (IPTW)",
    },
}

#: The project's own vocabulary: every code a report shows (models, terms, analyses, estimands,
#: attrition steps, covariates, figure labels) as ``code: (Danish, English)``. A code is never
#: shown as it is: :func:`vocabulary_label` gives its label in the page's language, and the
#: test of both languages fails when a Danish page shows an English label or the reverse.
VOCABULARY: dict[str, dict[str, tuple[str, str]]] = {
    "model": {
        "kaplan_meier": ("Kaplan-Meier: andel endnu uden hændelse",
                         "Kaplan-Meier: share still without the event"),
        "cumulative_incidence": ("Kumulativ incidens: andel med hændelsen",
                                 "Cumulative incidence: share with the event"),
        "risk_difference": ("Risikoforskel (kontakt minus sammenligning)",
                            "Risk difference (contacted minus comparison)"),
        "risk_ratio": ("Risikoforhold (kontakt over sammenligning)",
                       "Risk ratio (contacted over comparison)"),
        "cox": ("Cox-model: hazard ratio", "Cox model: hazard ratio"),
        "cox_stratified": ("Cox-model stratificeret på matchet sæt: hazard ratio",
                           "Cox model stratified by matched set: hazard ratio"),
        "fine_gray": ("Fine-Gray-model: subdistributions-hazard ratio",
                      "Fine-Gray model: subdistribution hazard ratio"),
        "rmst": ("Gennemsnitlig tid uden hændelse (RMST, dage)",
                 "Mean time without the event (RMST, days)"),
        "rmst_difference": ("Forskel i gennemsnitlig tid uden hændelse (dage)",
                            "Difference in mean time without the event (days)"),
        "rate": ("Antal hændelser pr. personår", "Events per person-year"),
        "rate_ratio": ("Rateforhold (kontakt over sammenligning)",
                       "Rate ratio (contacted over comparison)"),
    },
    "term": {
        "treated": ("kontakt mod sammenligning", "contacted versus comparison"),
        "survival": ("andel uden hændelse", "share without the event"),
        "cumulative_incidence": ("andel med hændelsen", "share with the event"),
        "rmst": ("dage uden hændelse", "days without the event"),
    },
    "analysis": {
        "matched": ("Matchet", "Matched"),
        "naive": ("Naiv (alle uden kontakt)", "Naive (everyone not contacted)"),
        "custody_at_risk": ("Matchet, frihedsberøvelse talt som tid i risiko",
                            "Matched, custody counted as time at risk"),
        "intention_to_treat": ("Kontakt nu mod ikke nu (intention to treat)",
                               "Contact now versus not now (intention to treat)"),
        "per_protocol": ("Kontakt nu mod ingen kontakt (per protokol, IPCW-vægtet)",
                         "Contact now versus no contact (per protocol, IPCW-weighted)"),
    },
    "estimand": {
        "intention_to_treat": (
            ("Kontakt nu mod ikke nu (intention to treat): sammenligningsgruppen er ikke kontaktet "
            "på datoen og følges, også hvis de kontaktes senere, som initiativet ville gøre (også "
            "få dage senere, for en hændelse før datoen)"),
            ("Contact now versus not now (intention to treat): the comparison group is not "
            "contacted at that date and is followed even if contacted later, as the initiative "
            "would (also days later, for an incident before that date)")),
        "per_protocol": (
            ("Kontakt nu mod ingen kontakt (per protokol): sammenligningsgruppen følges indtil en "
            "senere kontakt, vægtet for hvem der kontaktes senere"),
            ("Contact now versus no contact (per protocol): comparison follow-up ends at a later "
            "contact, weighted for who is contacted later")),
    },
    "subgroup": {
        "age_band": ("Aldersgruppe ved indeksdatoen", "Age band at the index date"),
        "sex": ("Køn", "Sex"),
        "contact_type": ("Kontaktform", "Contact type"),
        "referred_to": ("Henvisning", "Referral"),
    },
    "attrition": {
        "qualifying_contact": ("første kvalificerende kontakt i perioden",
                               "first qualifying contact in the period"),
        "prior_contact": ("havde kontakt (enhver kontaktform) før indeksdatoen",
                          "contacted (any contact type) before the index date"),
        "age": ("alder uden for det tilladte interval på indeksdatoen",
                "age outside the eligible range at the index date"),
        "resident": ("ikke bosat i området på indeksdatoen",
                     "not resident in the study area at the index date"),
        "alive": ("død på eller før indeksdatoen", "died on or before the index date"),
        "emigrated": ("udvandret på eller før indeksdatoen",
                      "emigrated on or before the index date"),
        "custody": ("frihedsberøvet på indeksdatoen", "in custody at the index date"),
        "no_follow_up": ("indeksdato på datagrundlagets sidste dag (ingen opfølgning)",
                         "index date on the end of data (no follow-up)"),
        "no_match": ("ingen sammenligningskandidat inden for caliperen",
                     "no comparison candidate within the caliper"),
        "eligible_pairs": ("mulige par (person, risikosæt) i de eksakte strata",
                           "eligible candidate pairs (person, risk set) in the exact strata"),
        "not_sampled": ("ikke trukket i stikprøven (incidence-density sampling)",
                        "not drawn in the incidence-density sample"),
        "exact_covariates": ("afviger på en variabel, der matches eksakt",
                             "differs on an exactly matched covariate"),
        "outside_caliper": ("uden for caliperen", "outside the caliper"),
        "not_nearest": ("ikke blandt de {ratio} nærmeste inden for caliperen",
                        "not among the {ratio} nearest within the caliper"),
    },
    "covariate": {
        "age_at_index": ("Alder på indeksdatoen", "Age at the index date"),
        "male": ("Mand", "Male"),
        "sex_male": ("Mand", "Male"),
        "female": ("Kvinde", "Female"),
    },
    "event": {
        "first_charge": ("fik en ny sigtelse", "had a new charge"),
        "first_guilty_decision": ("fik en ny dom", "had a new guilty decision"),
        "first_education_or_job": ("startede i uddannelse eller job", "started education or a job"),
        "first_registration": ("blev registreret i en kriminel gruppe",
                               "were registered in a criminal group"),
        "first_cooffence_with_member": ("blev sigtet sammen med et gruppemedlem",
                                        "were charged together with a group member"),
    },
    "population": {
        "first_education_or_job": (
            "kun unge, der hverken var i uddannelse eller job ved første kontakt (eller samme dato)",
            "only young people in neither education nor a job at the first contact (or the same date)"),
        "first_registration": (
            "kun unge, der ikke allerede var registreret i en kriminel gruppe ved første kontakt",
            "only young people not already registered in a criminal group at the first contact"),
        "first_cooffence_with_member": (
            "kun unge, der ikke allerede var registreret i en kriminel gruppe ved første kontakt",
            "only young people not already registered in a criminal group at the first contact"),
        "first_charge": ("kun unge, der kunne følges for dette udfald",
                         "only young people who could be followed for this outcome"),
        "first_guilty_decision": ("kun unge, der kunne følges for dette udfald",
                                  "only young people who could be followed for this outcome"),
    },
    "source": {
        "charges": ("Sigtelser", "Charges"),
        "convictions": ("Afgørelser", "Court decisions"),
        "custody": ("Frihedsberøvelser", "Custody"),
        "contacts": ("Kontakter", "Contacts"),
        "education": ("Uddannelse", "Education"),
        "employment": ("Beskæftigelse", "Employment"),
        "group_registrations": ("Registreringer i kriminelle grupper", "Criminal group registrations"),
        "negative_control_events": ("Negative kontrolhændelser", "Negative-control events"),
        "residence": ("Bopæl", "Residence"),
        "vital": ("Dødsfald og udvandring", "Deaths and emigration"),
        "reported_crime": ("Anmeldte forbrydelser", "Reported crime"),
    },
    "quarantine_reason": {
        "missing_cpr": ("CPR-nummer mangler", "CPR number missing"),
        "malformed_cpr": ("CPR-nummer i forkert form", "CPR number malformed"),
        "invalid_cpr_birth_date": ("CPR-nummer uden gyldig fødselsdato",
                                   "CPR number without a valid birth date"),
        "unparseable": ("kan ikke læses: {column}", "cannot be read: {column}"),
        "cpr_number": ("CPR-nummer i kolonnen {column}", "CPR number in the column {column}"),
        "unknown_category": ("ukendt kode i {column}", "unknown code in {column}"),
        "out_of_range": ("uden for det mulige i {column}", "out of range in {column}"),
    },
    "disclosure_rule": {
        "shown": ("vist", "shown"),
        "primary": ("skjult: under grænsen", "hidden: below the threshold"),
        "floor": ("skjult: for få fulgt", "hidden: too few followed"),
        "tied": ("skjult sammen med et lige så stort tal", "hidden together with an equal number"),
        "secondary": ("skjult: ellers kunne et lille tal regnes ud",
                      "hidden: a small number could otherwise be worked out"),
        "estimate_unknown": ("skjult estimat: et antal bag det kendes ikke",
                             "hidden estimate: a count behind it is not known"),
        "estimate_small": ("skjult estimat: et antal bag det er lille",
                           "hidden estimate: a count behind it is small"),
        "estimate_hidden": ("skjult estimat: et antal bag det er skjult",
                            "hidden estimate: a count behind it is hidden"),
        "estimate_floor": ("skjult estimat: færre end {n} fulgt",
                           "hidden estimate: fewer than {n} followed"),
        "estimate_shown": ("vist estimat: antallene bag det er vist",
                           "shown estimate: the counts behind it are shown"),
    },
    "figure": {
        "smd_axis": ("Absolut standardiseret forskel i gennemsnit",
                     "Absolute standardised mean difference"),
        "before_matching": ("Før matchning", "Before matching"),
        "after_matching": ("Efter matchning", "After matching"),
        "propensity_axis": ("Sandsynlighed for kontakt (propensity score)",
                            "Chance of being contacted (propensity score)"),
        "share_of_arm": ("Andel af gruppen", "Share of the group"),
        "hr_axis": ("Hazard ratio, kontakt mod sammenligning (logaritmisk skala)",
                    "Hazard ratio, contacted versus comparison (log scale)"),
    },
}


def vocabulary_label(kind: str, code: object, lang: str, **fields: object) -> str:
    """The label of ``code`` of the vocabulary ``kind`` in ``lang``.

    A code outside the vocabulary is returned as it is (the vocabulary test lists such codes).
    """
    entry = VOCABULARY[kind].get(str(code))
    if entry is None:
        return "" if code is None else str(code)
    label = entry[LANGUAGES.index(check_language(lang))]
    return label.format(**fields) if fields else label


#: The disclosure checker's rule texts (English, as its records keep them) -> vocabulary codes.
_RULE_CODES = {"estimate: a count behind it is not known": "estimate_unknown",
               "estimate: a count behind it is small": "estimate_small",
               "estimate: a count behind it is hidden": "estimate_hidden",
               "estimate: counts behind it shown": "estimate_shown"}


def reason_label(reason: str, lang: str) -> str:
    """A quarantine reason of pseudonymisation (``unparseable contact_date``, ``missing_cpr``...)
    in words of ``lang``; the column keeps the data contract's name."""
    code, _, column = str(reason).partition(" ")
    if column:
        return vocabulary_label("quarantine_reason", code, lang, column=column)
    return vocabulary_label("quarantine_reason", code, lang)


def rule_label(rule: str, lang: str) -> str:
    """A disclosure rule of the checker (:meth:`~evaluation.disclosure.Checker.rules_applied`)
    in words of ``lang``."""
    import re

    floor = re.fullmatch(r"estimate: fewer than (\d+) at risk", rule)
    if floor:
        return vocabulary_label("disclosure_rule", "estimate_floor", lang, n=floor.group(1))
    return vocabulary_label("disclosure_rule", _RULE_CODES.get(rule, rule), lang)


MONTHS = {
    "da": ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
           "oktober", "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}


def check_language(lang: str) -> str:
    """Return ``lang`` when it is a report language; raise ``ValueError`` otherwise."""
    if lang not in TEXTS:
        raise ValueError(f"unknown report language {lang!r} (expected one of {', '.join(LANGUAGES)})")
    return lang


def text(key: str, lang: str, **fields: object) -> str:
    """The text ``key`` in language ``lang`` with its placeholders filled in."""
    return TEXTS[check_language(lang)][key].format(**fields)


def not_estimated_text(reason: object, lang: str) -> str:
    """A "not estimated" reason of the estimability rule (English, from the code) in words."""
    r = str(reason or "").lower()
    key = ("ne_no_events" if r.startswith("no events") or "events in one group" in r
           else "ne_not_converged" if r.startswith("did not converge")
           else "ne_separation" if r.startswith("separation") else "ne_failed")
    return text(key, lang)


def category_label(code: object, lang: str) -> str:
    """A readable label for a category code (sex, age band, contact type, referral...)."""
    key = str(code)
    return CATEGORY_LABELS[check_language(lang)].get(key, key)


def arm_label(arm: object, lang: str) -> str:
    """The name of an arm ("contacted", "comparison") in ``lang``; other values as they are."""
    return text(f"arm_{arm}", lang) if arm in ("contacted", "comparison") else str(arm)


# -- area level: recorded crime in the study municipality (evaluation.report.area) ----------------
_AREA_TEXTS: dict[str, dict[str, str]] = {
    "da": {
        "h_area": "Anmeldt vold og våbenkriminalitet i Aalborg Kommune",
        "h_area_technical": "Områdeniveau: anmeldt vold og våbenkriminalitet",
        "area_line_observed": "Aalborg Kommune",
        "area_line_synthetic": "Syntetisk Aalborg (vægtet blanding af andre kommuner)",
        "area_line_comparison": "Andre kommuners gennemsnit (skaleret til Aalborgs niveau før start)",
        "area_start": "indsatsen starter",
        "area_axis_count": "Anmeldelser pr. måned",
        "area_axis_ratio": "Forhold mellem fejl efter og før start (RMSPE)",
        "area_axis_event_years": "År i forhold til start (-1 = året før)",
        "area_axis_event_periods": "Perioder i forhold til start (-1 = perioden før)",
        "area_axis_coefficient": "Forskel mod sammenligningskommunerne (log-rate)",
        "area_figure_caption": (
            "Figuren viser anmeldte volds- og våbenforbrydelser pr. måned i Aalborg Kommune, en "
            "syntetisk Aalborg bygget af andre kommuner, der fulgte Aalborg før indsatsen, og "
            "gennemsnittet af sammenligningskommunerne. Lodret streg: første måned med indsatsen "
            "({start})."
        ),
        "area_verdict_agree_decrease": (
            "Anmeldt vold og våbenkriminalitet i Aalborg er faldet, siden indsatsen begyndte, "
            "med omkring {range} % i forhold til sammenligningskommunerne, og metoderne er enige."
        ),
        "area_verdict_agree_increase": (
            "Anmeldt vold og våbenkriminalitet i Aalborg er steget, siden indsatsen begyndte, "
            "med omkring {range} % i forhold til sammenligningskommunerne, og metoderne er enige."
        ),
        "area_verdict_no_clear_change": (
            "Metoderne viser ingen klar ændring i anmeldt vold og våbenkriminalitet i Aalborg, "
            "siden indsatsen begyndte."
        ),
        "area_verdict_disagree": (
            "Metoderne er uenige om, hvorvidt anmeldt vold og våbenkriminalitet i Aalborg har "
            "ændret sig, så vi kan endnu ikke sige noget."
        ),
        "area_verdict_one_method": (
            "Kun én metode ({method}) bestod sine kontroller: anmeldt vold og våbenkriminalitet "
            "{direction} med omkring {pct} %; de andre kan ikke bruges, så resultatet er usikkert."
        ),
        "area_verdict_cannot_say": (
            "Vi kan endnu ikke sige, om anmeldt vold og våbenkriminalitet i Aalborg har ændret "
            "sig: metodernes kontroller holdt ikke."
        ),
        "area_fell": "faldt", "area_rose": "steg", "area_to": "til",
        "area_family_poisson": "Poisson", "area_family_negative_binomial": "negativ binomial",
        "area_family_linear": "lineær",
        "area_se_cluster": "klyngerobuste pr. kommune",
        "area_se_driscoll_kraay": "Driscoll-Kraay ({lags} forsinkelser)",
        "area_alt_series": (
            "Linjefigur: anmeldte volds- og våbenforbrydelser pr. måned i Aalborg, syntetisk Aalborg "
            "og sammenligningskommunernes gennemsnit, med indsatsens start markeret."
        ),
        "area_alt_placebo": (
            "Søjlefigur: forholdet mellem fejl efter og før start for Aalborg og for hver "
            "sammenligningskommune som placebo; Aalborg fremhævet."
        ),
        "area_alt_event": (
            "Punktfigur: forskellen mod sammenligningskommunerne år for år før og efter start, "
            "med 95 %-konfidensintervaller."
        ),
        "area_gate_residual_autocorrelation": "restled autokorrelerede",
        "area_gate_placebo_in_time": "effekt ved placebo-start før start",
        "area_gate_comparison_placebo": (
            "samme model finder effekter i sammenligningskommuner uden indsats (fælles stød "
            "skævvrider en enkelt tidsserie)"),
        "area_gate_pre_trend": "ikke parallel udvikling før start",
        "area_gate_pre_trend_untestable": "kun én periode før start: parallel udvikling kan ikke testes",
        "area_gate_pre_fit": "syntetisk Aalborg følger ikke Aalborg før start",
        "area_gate_leave_one_out": "fortegnet skifter, når én donorkommune udelades",
        "area_method_its": "Afbrudt tidsserie", "area_method_did": "Forskel-i-forskelle",
        "area_method_synth": "Syntetisk kontrol",
        "area_assumes_its": "Aalborgs egen udvikling og sæsonmønster før start ville være fortsat.",
        "area_assumes_did": (
            "Aalborg og sammenligningskommunerne ville have udviklet sig parallelt (testet før start)."
        ),
        "area_assumes_did_trends": (
            "Hver kommunes egen lineære udvikling og de stød, Aalborg deler med "
            "sammenligningskommunerne, ville være fortsat (testet med en placebo-start før start)."
        ),
        "area_assumes_synth": (
            "En vægtet blanding af kommuner, der fulgte Aalborg før start, ville have fortsat med det."
        ),
        "area_design": (
            "Anmeldte volds- og våbenforbrydelser pr. periode i {n} kommuner (Aalborg og "
            "sammenligningskommunerne), {n_pre} perioder før og {n_post} perioder fra starten "
            "({start} til {last}). Hvert estimat er den gennemsnitlige forskel pr. periode efter "
            "start i antal anmeldelser."
        ),
        "area_rule": (
            "Regel for rådsrapporten: kun metoder, der består deres kontroller, tæller; de skal "
            "pege samme vej, og mindst én skal være statistisk klar, før rapporten siger, at "
            "kriminaliteten er faldet eller steget."
        ),
        "area_not_estimated": "Ikke estimeret: dataene om anmeldt kriminalitet slår ikke til.",
        "area_gate_failed": "ikke vist (kontrol fejlede)",
        "area_gates_ok": "alle kontroller bestået",
        "area_col_method": "Metode", "area_col_estimate": "Forskel pr. periode",
        "area_col_ci": "95 %-konfidensinterval", "area_col_p": "p-værdi",
        "area_col_relative": "Relativ ændring", "area_col_gates": "Kontroller",
        "area_col_assumes": "Forudsætter", "area_col_municipality": "Kommunekode",
        "area_col_weight": "Vægt", "area_col_check": "Kontrol", "area_col_value": "Værdi",
        "h_area_weights": "Syntetisk kontrol: kommunernes vægte",
        "h_area_placebo": "Placebo-test: hver sammenligningskommune som 'behandlet'",
        "area_placebo_text": (
            "Aalborgs forhold mellem fejl efter og før start er nummer {rank} af {runs} "
            "(placebo-p = {p})."
        ),
        "h_area_event": "Event study: forskel mod sammenligningskommunerne år for år",
        "h_area_diagnostics": "Diagnostik",
        "area_diag_comparison_placebo": "Samme model i sammenligningskommunerne: andel med effekt",
        "area_diag_unit_trends": "Egen lineær trend for hver kommune",
        "area_diag_ljung_box": "Ljung-Box-test af residualerne, p (forsinkelse {lag})",
        "area_yes": "ja", "area_no": "nej",
        "area_diag_family": "Fordeling", "area_diag_placebo_time": "Placebo-start før start, p",
        "area_diag_pre_rmse": "Fejl før start (RMSE)", "area_diag_pre_trend": "Test for forskellig trend før start, p",
        "area_diag_rate_ratio": "Rateforhold",
        "area_diag_pre_rmspe": "Fejl før start (RMSPE)",
        "area_diag_loo": "Estimat uden én donorkommune ad gangen",
        "area_assumes_its_events": (
            "Aalborgs egen udvikling og sæsonmønster før start ville være fortsat, og de erklærede "
            "kalenderbegivenheder flyttede niveauet, mens de stod på, og ellers ikke."
        ),
        "area_events_text": (
            "Erklærede kalenderbegivenheder (en forudsætning i studiefilen: deres perioder er "
            "givet, ikke fundet i data): den afbrudte tidsserie justerer for {events} som et "
            "niveauskift i deres perioder."
        ),
        "area_event_item": "{label} ({first} til {last}; estimeret niveau {shift} gange det sædvanlige)",
        "area_event_item_none": "{label} ({first} til {last}; kunne ikke estimeres i tidsserien)",
        "area_diag_interval": "95 %-interval",
        "area_synth_intervals": (
            "For den syntetiske kontrol er 95 %-intervallet konformt (det forudsætter en konstant "
            "effekt), og p-værdien er placebo-testens; det er to forskellige test, så intervallet "
            "kan indeholde ingen ændring, mens p-værdien er under 0,05, eller omvendt. Den konforme "
            "p-værdi for ingen ændring er {p}."
        ),
        "area_se_newey_west": "Newey-West ({lags} forsinkelser)",
        "area_interval_fixed_b": "{se}; fixed-b kritisk værdi {cv} (Kiefer og Vogelsang 2005)",
        "area_interval_normal": "{se}; normalfordelingens kritiske værdi {cv}",
        "area_interval_conformal": (
            "konform inferens (Chernozhukov, Wüthrich og Zhu 2021): konstant effekt, {periods} "
            "glidende blokke; p-værdi for ingen ændring {p}"
        ),
    },
    "en": {
        "h_area": "Reported violence and weapons offences in Aalborg Municipality",
        "h_area_technical": "Area level: reported violence and weapons offences",
        "area_line_observed": "Aalborg Municipality",
        "area_line_synthetic": "Synthetic Aalborg (weighted mix of other municipalities)",
        "area_line_comparison": "Other municipalities' mean (scaled to Aalborg's level before the start)",
        "area_start": "initiative starts",
        "area_axis_count": "Reports per month",
        "area_axis_ratio": "Ratio of the error after to before the start (RMSPE)",
        "area_axis_event_years": "Years relative to the start (-1 = the year before)",
        "area_axis_event_periods": "Periods relative to the start (-1 = the period before)",
        "area_axis_coefficient": "Difference from the comparison municipalities (log rate)",
        "area_figure_caption": (
            "The figure shows reported violence and weapons offences per month in Aalborg "
            "Municipality, a synthetic Aalborg built from other municipalities that tracked "
            "Aalborg before the initiative, and the comparison municipalities' mean. Vertical "
            "line: first month of the initiative ({start})."
        ),
        "area_verdict_agree_decrease": (
            "Reported violence and weapons offences in Aalborg have fallen since the initiative "
            "began, by about {range}% relative to the comparison municipalities, and the "
            "methods agree."
        ),
        "area_verdict_agree_increase": (
            "Reported violence and weapons offences in Aalborg have risen since the initiative "
            "began, by about {range}% relative to the comparison municipalities, and the "
            "methods agree."
        ),
        "area_verdict_no_clear_change": (
            "The methods show no clear change in reported violence and weapons offences in "
            "Aalborg since the initiative began."
        ),
        "area_verdict_disagree": (
            "The methods disagree about whether reported violence and weapons offences in Aalborg "
            "have changed, so we cannot yet say."
        ),
        "area_verdict_one_method": (
            "Only one method ({method}) passed its checks: reported violence and weapons offences "
            "{direction} by about {pct}%; the others cannot be relied on, so the result is uncertain."
        ),
        "area_verdict_cannot_say": (
            "We cannot yet say whether reported violence and weapons offences in Aalborg have "
            "changed: the methods' checks did not hold."
        ),
        "area_fell": "fell", "area_rose": "rose", "area_to": "to",
        "area_family_poisson": "Poisson", "area_family_negative_binomial": "negative binomial",
        "area_family_linear": "linear",
        "area_se_cluster": "clustered by municipality",
        "area_se_driscoll_kraay": "Driscoll-Kraay ({lags} lags)",
        "area_alt_series": (
            "Line chart: reported violence and weapons offences per month in Aalborg, synthetic "
            "Aalborg and the comparison municipalities' mean, with the start of the initiative marked."
        ),
        "area_alt_placebo": (
            "Bar chart: the ratio of the error after to before the start for Aalborg and for each "
            "comparison municipality as a placebo; Aalborg highlighted."
        ),
        "area_alt_event": (
            "Dot chart: the difference from the comparison municipalities year by year before and "
            "after the start, with 95% confidence intervals."
        ),
        "area_gate_residual_autocorrelation": "residuals autocorrelated",
        "area_gate_placebo_in_time": "an effect at a placebo start before the start",
        "area_gate_comparison_placebo": (
            "the same model finds effects in comparison municipalities without the initiative "
            "(shared shocks bias a single series)"),
        "area_gate_pre_trend": "no parallel movement before the start",
        "area_gate_pre_trend_untestable": "one period before the start only: parallel movement cannot be tested",
        "area_gate_pre_fit": "synthetic Aalborg does not track Aalborg before the start",
        "area_gate_leave_one_out": "the sign changes when one donor municipality is left out",
        "area_method_its": "Interrupted time series", "area_method_did": "Difference-in-differences",
        "area_method_synth": "Synthetic control",
        "area_assumes_its": "Aalborg's own trend and seasonal pattern before the start would have continued.",
        "area_assumes_did": (
            "Aalborg and the comparison municipalities would have moved in parallel (tested before the start)."
        ),
        "area_assumes_did_trends": (
            "Each municipality's own linear trend and the shocks Aalborg shares with the comparison "
            "municipalities would have continued (tested at a placebo start before the start)."
        ),
        "area_assumes_synth": (
            "A weighted mix of municipalities that tracked Aalborg before the start would have kept doing so."
        ),
        "area_design": (
            "Reported violence and weapons offences per period in {n} municipalities (Aalborg and "
            "the comparison municipalities), {n_pre} periods before and {n_post} periods from the "
            "start ({start} to {last}). Each estimate is the average difference per period after "
            "the start, in number of reports."
        ),
        "area_rule": (
            "Rule for the council report: only methods that pass their checks count; they must "
            "point the same way, and at least one must be statistically clear, before the report "
            "says that crime fell or rose."
        ),
        "area_not_estimated": "Not estimated: the reported-crime data do not suffice.",
        "area_gate_failed": "not shown (a check failed)",
        "area_gates_ok": "all checks passed",
        "area_col_method": "Method", "area_col_estimate": "Difference per period",
        "area_col_ci": "95% confidence interval", "area_col_p": "p-value",
        "area_col_relative": "Relative change", "area_col_gates": "Checks",
        "area_col_assumes": "Assumes", "area_col_municipality": "Municipality code",
        "area_col_weight": "Weight", "area_col_check": "Check", "area_col_value": "Value",
        "h_area_weights": "Synthetic control: the municipalities' weights",
        "h_area_placebo": "Placebo test: each comparison municipality as if treated",
        "area_placebo_text": (
            "Aalborg's ratio of the error after to before the start ranks {rank} of {runs} "
            "(placebo p = {p})."
        ),
        "h_area_event": "Event study: difference from the comparison municipalities year by year",
        "h_area_diagnostics": "Diagnostics",
        "area_diag_comparison_placebo": "Same model in the comparison municipalities: share with an effect",
        "area_diag_unit_trends": "Own linear trend for every municipality",
        "area_diag_ljung_box": "Ljung-Box test of the residuals, p (lag {lag})",
        "area_yes": "yes", "area_no": "no",
        "area_diag_family": "Family", "area_diag_placebo_time": "Placebo start before the start, p",
        "area_diag_pre_rmse": "Error before the start (RMSE)", "area_diag_pre_trend": "Test of a different trend before the start, p",
        "area_diag_rate_ratio": "Rate ratio",
        "area_diag_pre_rmspe": "Error before the start (RMSPE)",
        "area_diag_loo": "Estimate without one donor municipality at a time",
        "area_assumes_its_events": (
            "Aalborg's own trend and seasonal pattern before the start would have continued, and "
            "the declared calendar events shifted the level while they lasted and at no other time."
        ),
        "area_events_text": (
            "Declared calendar events (an assumption of the study file: their periods are given, "
            "not found in the data): the interrupted time series adjusts for {events} as a level "
            "shift over their periods."
        ),
        "area_event_item": "{label} ({first} to {last}; estimated level {shift} times the usual)",
        "area_event_item_none": "{label} ({first} to {last}; could not be estimated in the series)",
        "area_diag_interval": "95% interval",
        "area_synth_intervals": (
            "For the synthetic control, the 95% interval is a conformal one (it assumes a constant "
            "effect) and the p-value is the placebo-in-space one; they are two different tests, so "
            "the interval may include no change while the p-value is below 0.05, or the reverse. "
            "The conformal p-value of no change is {p}."
        ),
        "area_se_newey_west": "Newey-West ({lags} lags)",
        "area_interval_fixed_b": "{se}; fixed-b critical value {cv} (Kiefer and Vogelsang 2005)",
        "area_interval_normal": "{se}; normal critical value {cv}",
        "area_interval_conformal": (
            "conformal inference (Chernozhukov, Wüthrich and Zhu 2021): constant effect, {periods} "
            "moving blocks; p-value of no change {p}"
        ),
    },
}
for _lang in LANGUAGES:
    TEXTS[_lang].update(_AREA_TEXTS[_lang])
