package csvimport

import (
	"strings"

	"github.com/alinea-crm/alinea"
)

// countryCodes maps country names in English and Spanish, common
// abbreviations and ISO alpha-3 codes (normalised with normalizeHeader) to
// ISO 3166-1 alpha-2 codes. Two-letter values pass through as codes.
var countryCodes = func() map[string]string {
	m := map[string]string{}
	add := func(code string, names ...string) {
		for _, n := range names {
			m[n] = code
		}
	}
	add("ES", "spain", "espana", "esp", "reino de espana")
	add("MX", "mexico", "mex", "estados unidos mexicanos")
	add("AR", "argentina", "arg")
	add("CO", "colombia", "col")
	add("CL", "chile", "chl")
	add("PE", "peru", "per")
	add("VE", "venezuela", "ven")
	add("EC", "ecuador", "ecu")
	add("BO", "bolivia", "bol")
	add("PY", "paraguay", "pry")
	add("UY", "uruguay", "ury")
	add("CR", "costa rica", "cri")
	add("PA", "panama", "pan")
	add("GT", "guatemala", "gtm")
	add("HN", "honduras", "hnd")
	add("SV", "el salvador", "salvador", "slv")
	add("NI", "nicaragua", "nic")
	add("CU", "cuba", "cub")
	add("DO", "dominican republic", "republica dominicana", "dom")
	add("PR", "puerto rico", "pri")
	add("GQ", "equatorial guinea", "guinea ecuatorial", "gnq")
	add("US", "united states", "united states of america", "usa", "u s a", "u s", "estados unidos",
		"estados unidos de america", "eeuu", "ee uu", "eua")
	add("GB", "united kingdom", "uk", "u k", "great britain", "britain", "england", "scotland", "wales", "northern ireland",
		"reino unido", "gran bretana", "inglaterra", "escocia", "gales", "irlanda del norte", "gbr")
	add("IE", "ireland", "irlanda", "irl")
	add("CA", "canada", "can")
	add("AU", "australia", "aus")
	add("NZ", "new zealand", "nueva zelanda", "nzl")
	add("ZA", "south africa", "sudafrica", "zaf")
	add("IN", "india", "ind")
	add("FR", "france", "francia", "fra")
	add("DE", "germany", "alemania", "deu")
	add("IT", "italy", "italia", "ita")
	add("PT", "portugal", "prt")
	add("AD", "andorra")
	add("NL", "netherlands", "the netherlands", "holland", "paises bajos", "holanda", "nld")
	add("BE", "belgium", "belgica", "bel")
	add("LU", "luxembourg", "luxemburgo", "lux")
	add("CH", "switzerland", "suiza", "che")
	add("AT", "austria", "aut")
	add("SE", "sweden", "suecia", "swe")
	add("NO", "norway", "noruega", "nor")
	add("DK", "denmark", "dinamarca", "dnk")
	add("FI", "finland", "finlandia", "fin")
	add("PL", "poland", "polonia", "pol")
	add("GR", "greece", "grecia", "grc")
	add("TR", "turkey", "turkiye", "turquia", "tur")
	add("RU", "russia", "rusia", "rus")
	add("MA", "morocco", "marruecos", "mar")
	add("IL", "israel", "isr")
	add("AE", "united arab emirates", "emiratos arabes unidos", "uae", "are")
	add("BR", "brazil", "brasil", "bra")
	add("CN", "china", "chn")
	add("JP", "japan", "japon", "jpn")
	add("KR", "south korea", "corea del sur", "kor")
	add("PH", "philippines", "filipinas", "phl")
	add("SG", "singapore", "singapur", "sgp")
	return m
}()

// countryCode turns a country name or code into an ISO alpha-2 code when it
// knows it; anything else is returned as given for Validate to judge.
func countryCode(v string) string {
	if code, ok := countryCodes[normalizeHeader(v)]; ok {
		return code
	}
	return v
}

// stageAliases accepts the stage names in Spanish and spelled out.
var stageAliases = map[string]alinea.Stage{
	"suscriptor":               alinea.StageSubscriber,
	"subscriptor":              alinea.StageSubscriber,
	"marketing qualified lead": alinea.StageMQL,
	"sales accepted lead":      alinea.StageSAL,
	"sales qualified lead":     alinea.StageSQL,
	"oportunidad":              alinea.StageOpportunity,
	"cliente":                  alinea.StageCustomer,
	"evangelista":              alinea.StageEvangelist,
	"reciclado":                alinea.StageRecycled,
	"descalificado":            alinea.StageDisqualified,
}

// stageValue lower-cases a stage and translates Spanish names; whether the
// result is a stage is left to Validate.
func stageValue(v string) alinea.Stage {
	if s, ok := stageAliases[normalizeHeader(v)]; ok {
		return s
	}
	return alinea.Stage(strings.ToLower(v))
}

// consentValue reads yes/no answers in English and Spanish.
func consentValue(v string) (alinea.Consent, bool) {
	switch normalizeHeader(v) {
	case "yes", "y", "si", "s", "true", "1", "granted", "opt in", "opted in", "subscribed", "concedido", "otorgado", "aceptado", "acepta":
		return alinea.ConsentGranted, true
	case "no", "n", "false", "0", "denied", "opt out", "opted out", "unsubscribed", "denegado", "rechazado", "no acepta":
		return alinea.ConsentDenied, true
	case "unknown", "desconocido":
		return alinea.ConsentUnknown, true
	}
	return "", false
}
