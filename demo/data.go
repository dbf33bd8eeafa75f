package demo

// The word lists the generator draws from. Names, titles and company parts
// are common ones, combined at random; any likeness to a real company or
// person is a coincidence of common words.

// site is the demo company's own website, where the tracked page views
// happen. It uses the reserved .example top-level domain.
const (
	siteURL     = "https://www.vertice.example"
	staffDomain = "vertice.example"
)

// country describes where an account is: language, UTC offset of its
// business hours, domains, currency and phone format.
type country struct {
	code     string
	lang     string
	weight   float64
	tz       int // hours from UTC, without daylight saving
	zone     string
	locale   string
	tlds     []string
	currency string
	// rate converts an amount in EUR to the local currency.
	rate float64
	// adjectives and places make Spanish company names sound local.
	adjectives []string
	places     []string
	phone      func(g *gen) string
}

var countries = []country{
	{code: "ES", lang: "es", weight: 28, tz: 1, zone: "Europe/Madrid", locale: "es-ES", tlds: []string{".es", ".es", ".com"}, currency: "EUR", rate: 1,
		adjectives: []string{"Ibérica", "Mediterránea", "Cantábrica", "Castellana", "Andaluza", "Gallega", "Levantina", "Valenciana", "Aragonesa", "Atlántica", "Navarra", "Balear"},
		places:     []string{"del Norte", "del Sur", "de Levante", "del Cantábrico", "del Mediterráneo", "del Ebro"},
		phone: func(g *gen) string {
			if g.chance(0.6) {
				return "+34 6" + g.digits(2) + " " + g.digits(3) + " " + g.digits(3)
			}
			return "+34 9" + pick(g, []string{"1", "3", "5", "6", "4"}) + " " + g.digits(3) + " " + g.digits(2) + " " + g.digits(2)
		}},
	{code: "MX", lang: "es", weight: 20, tz: -6, zone: "America/Mexico_City", locale: "es-MX", tlds: []string{".com.mx", ".com.mx", ".mx", ".com"}, currency: "MXN", rate: 19,
		adjectives: []string{"Azteca", "Norteña", "Regiomontana", "Tapatía", "Maya", "Jalisciense", "Poblana", "Veracruzana", "Mexicana", "Peninsular"},
		places:     []string{"del Bajío", "del Golfo", "del Norte", "del Pacífico", "de Occidente"},
		phone: func(g *gen) string {
			return "+52 " + pick(g, []string{"55", "55", "33", "81", "222"}) + " " + g.digits(4) + " " + g.digits(4)
		}},
	{code: "CO", lang: "es", weight: 12, tz: -5, zone: "America/Bogota", locale: "es-CO", tlds: []string{".com.co", ".co", ".com"}, currency: "USD", rate: 1.08,
		adjectives: []string{"Andina", "Caribeña", "Paisa", "Bogotana", "Cafetera", "Antioqueña", "Santandereana", "Vallecaucana", "Colombiana"},
		places:     []string{"del Caribe", "del Valle", "de los Andes", "del Pacífico"},
		phone: func(g *gen) string {
			if g.chance(0.7) {
				return "+57 3" + g.digits(2) + " " + g.digits(3) + " " + g.digits(4)
			}
			return "+57 60" + pick(g, []string{"1", "4", "2", "5"}) + " " + g.digits(3) + " " + g.digits(4)
		}},
	{code: "AR", lang: "es", weight: 8, tz: -3, zone: "America/Argentina/Buenos_Aires", locale: "es-AR", tlds: []string{".com.ar"}, currency: "USD", rate: 1.08,
		adjectives: []string{"Pampeana", "Porteña", "Austral", "Patagónica", "Rioplatense", "Cordobesa", "Mendocina", "Argentina"},
		places:     []string{"del Plata", "del Sur", "del Litoral", "de Cuyo"},
		phone: func(g *gen) string {
			if g.chance(0.6) {
				return "+54 9 11 " + g.digits(4) + "-" + g.digits(4)
			}
			return "+54 11 4" + g.digits(3) + "-" + g.digits(4)
		}},
	{code: "CL", lang: "es", weight: 7, tz: -4, zone: "America/Santiago", locale: "es-CL", tlds: []string{".cl"}, currency: "USD", rate: 1.08,
		adjectives: []string{"Austral", "Andina", "Cordillerana", "Patagónica", "Porteña", "Chilena", "Nortina", "Araucana"},
		places:     []string{"del Sur", "del Pacífico", "de los Andes", "del Norte"},
		phone: func(g *gen) string {
			if g.chance(0.7) {
				return "+56 9 " + g.digits(4) + " " + g.digits(4)
			}
			return "+56 2 2" + g.digits(3) + " " + g.digits(4)
		}},
	{code: "PE", lang: "es", weight: 5, tz: -5, zone: "America/Lima", locale: "es-PE", tlds: []string{".pe", ".com.pe"}, currency: "USD", rate: 1.08,
		adjectives: []string{"Andina", "Limeña", "Inca", "Peruana", "Arequipeña", "Norteña", "Amazónica"},
		places:     []string{"del Pacífico", "de los Andes", "del Sur"},
		phone: func(g *gen) string {
			if g.chance(0.7) {
				return "+51 9" + g.digits(2) + " " + g.digits(3) + " " + g.digits(3)
			}
			return "+51 1 " + g.digits(3) + " " + g.digits(4)
		}},
	{code: "US", lang: "en", weight: 12, tz: -5, zone: "America/New_York", locale: "en-US", tlds: []string{".com", ".com", ".io", ".co"}, currency: "USD", rate: 1.08,
		phone: func(g *gen) string {
			return "+1 (" + pick(g, []string{"212", "415", "312", "617", "512", "206", "305", "646"}) + ") " + g.digitsFrom("23456789", 1) + g.digits(2) + "-" + g.digits(4)
		}},
	{code: "GB", lang: "en", weight: 8, tz: 0, zone: "Europe/London", locale: "en-GB", tlds: []string{".co.uk", ".co.uk", ".com"}, currency: "GBP", rate: 0.85,
		phone: func(g *gen) string {
			if g.chance(0.5) {
				return "+44 7" + g.digits(3) + " " + g.digits(6)
			}
			return "+44 20 " + g.digitsFrom("378", 1) + g.digits(3) + " " + g.digits(4)
		}},
}

type industry struct {
	name string
	// es and en are the industry as a note would say it.
	es, en string
	// weight is how common the industry is among the accounts.
	weight float64
	// esNouns are feminine singular nouns ("Logística") that take a
	// regional adjective ("Ibérica"); esWords and enWords follow a brand.
	esNouns []string
	esWords []string
	enWords []string
}

var industries = []industry{
	{"software", "software", "software", 16, []string{"Consultora", "Informática"}, []string{"Tech", "Labs", "Software", "Sistemas", "Analytics", "Digital"}, []string{"Analytics", "Software", "Labs", "Systems", "Cloud", "Data"}},
	{"retail", "distribución", "retail", 12, []string{"Distribuidora", "Comercializadora"}, []string{"Retail", "Tiendas", "Moda", "Market"}, []string{"Retail", "Outfitters", "Stores", "Market", "Goods"}},
	{"manufacturing", "industria", "manufacturing", 12, []string{"Metalúrgica", "Manufacturera", "Papelera", "Textil"}, []string{"Industrial", "Componentes", "Plásticos", "Maquinaria"}, []string{"Manufacturing", "Industries", "Components", "Works"}},
	{"logistics", "logística", "logistics", 10, []string{"Logística", "Transportadora"}, []string{"Logística", "Cargo", "Transportes", "Express"}, []string{"Logistics", "Freight", "Shipping", "Transport"}},
	{"healthcare", "salud", "healthcare", 9, []string{"Clínica", "Farmacéutica", "Policlínica"}, []string{"Salud", "Médica", "Labs", "Dental"}, []string{"Health", "Medical", "Care", "Clinics", "Pharma"}},
	{"education", "educación", "education", 7, []string{"Academia", "Editorial", "Escuela"}, []string{"Educación", "Academy", "Formación", "Idiomas"}, []string{"Learning", "Academy", "Education", "Tutoring"}},
	{"finance", "finanzas", "finance", 9, []string{"Financiera", "Aseguradora", "Gestora"}, []string{"Capital", "Seguros", "Inversiones", "Pagos", "Finanzas"}, []string{"Capital", "Financial", "Partners", "Insurance", "Payments"}},
	{"hospitality", "hostelería", "hospitality", 8, []string{"Hotelera", "Cadena Hotelera"}, []string{"Hoteles", "Resorts", "Hospitality", "Turismo"}, []string{"Hotels", "Hospitality", "Resorts", "Inns"}},
	{"food", "alimentación", "food and beverage", 9, []string{"Alimentaria", "Conservera", "Cervecera", "Vinícola", "Panificadora"}, []string{"Foods", "Alimentos", "Gourmet", "Bebidas"}, []string{"Foods", "Bakery", "Brewing", "Kitchens"}},
	{"construction", "construcción", "construction", 8, []string{"Constructora", "Inmobiliaria"}, []string{"Construcciones", "Obras", "Inmobiliaria", "Ingeniería"}, []string{"Construction", "Builders", "Homes", "Engineering"}},
}

var esBrands = []string{"Nexo", "Kuna", "Quanta", "Alba", "Brío", "Cóndor", "Ceiba", "Jacarandá", "Quetzal", "Ámbar", "Faro", "Mistral",
	"Solana", "Altamira", "Almendro", "Olivo", "Aurora", "Sierra", "Horizonte", "Cumbre", "Lucero", "Tierra Alta", "Puerto Nuevo", "Bahía",
	"Roble", "Arrayán", "Colibrí", "Tucán", "Volcán", "Mirador", "Ensenada", "Alameda", "Patio", "Nogal", "Garza", "Pampa", "Andes", "Ría"}

var esGroupAdjectives = []string{"Andino", "Ibérico", "Austral", "Alcázar", "Meridiano", "Atlántico", "Pacífico", "Continental", "Central", "Empresarial", "Latino", "Mediterráneo"}

var enBrands = []string{"Northwind", "Bluestone", "Redwood", "Harbor", "Summit", "Crescent", "Ironbridge", "Silverline", "Oakridge", "Brightwater",
	"Kestrel", "Ashford", "Granite", "Lighthouse", "Meridian", "Pinecrest", "Riverside", "Stonegate", "Westfield", "Evergreen", "Falcon",
	"Beacon", "Copperfield", "Highland", "Larkspur", "Maple", "Orchard", "Quarry", "Thistle", "Windmill", "Atlas", "Juniper", "Cobalt",
	"Sterling", "Hawthorne", "Foxglove", "Bramble", "Cedar", "Harrow", "Kingsley", "Moorland", "Osprey", "Wren", "Lantern", "Fairview"}

var esFemale = []string{"María", "Lucía", "Carmen", "Laura", "Ana", "Isabel", "Marta", "Paula", "Elena", "Sara", "Cristina", "Raquel",
	"Andrea", "Beatriz", "Natalia", "Silvia", "Patricia", "Claudia", "Valentina", "Camila", "Daniela", "Sofía", "Gabriela", "Mariana",
	"Fernanda", "Alejandra", "Carolina", "Verónica", "Lorena", "Rocío", "Pilar", "Teresa", "Julia", "Irene", "Nuria", "Montserrat",
	"Ximena", "Renata", "Florencia", "Catalina", "Josefina", "Milagros", "Luciana", "Antonella", "María José", "Ana Sofía", "Guadalupe",
	"Mónica", "Inés", "Adriana", "Rosa", "Noelia", "Victoria", "Agustina", "Constanza", "Paola", "Diana", "Liliana", "Yolanda", "Esther"}

var esMale = []string{"José", "Antonio", "Manuel", "Francisco", "David", "Juan", "Javier", "Daniel", "Carlos", "Miguel", "Alejandro",
	"Rafael", "Pablo", "Sergio", "Fernando", "Jorge", "Luis", "Alberto", "Álvaro", "Diego", "Adrián", "Raúl", "Enrique", "Ramón",
	"Andrés", "Santiago", "Mateo", "Sebastián", "Nicolás", "Felipe", "Gonzalo", "Martín", "Joaquín", "Tomás", "Ignacio", "Rodrigo",
	"Eduardo", "Ricardo", "Óscar", "Héctor", "Emilio", "Gustavo", "Mauricio", "Esteban", "Julián", "Facundo", "Matías", "Cristian",
	"Juan Pablo", "Juan Carlos", "Luis Miguel", "Iván", "Rubén", "Víctor", "Hugo", "Marcos", "Agustín", "Germán", "Fabián", "Arturo"}

var esLast = []string{"García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
	"Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres",
	"Domínguez", "Vázquez", "Ramos", "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
	"Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés", "Castillo", "Santos", "Lozano",
	"Guerrero", "Cano", "Prieto", "Méndez", "Cruz", "Flores", "Herrera", "Peña", "León", "Márquez", "Cabrera", "Vega", "Campos",
	"Vargas", "Rojas", "Mendoza", "Aguilar", "Silva", "Reyes", "Castañeda", "Quispe", "Mamani", "Contreras", "Sepúlveda", "Fuentes",
	"Araya", "Espinoza", "Valenzuela", "Rossi", "Ferrari", "Bianchi", "Acosta", "Benítez", "Pereyra", "Sosa", "Ríos", "Salazar",
	"Cárdenas", "Zapata", "Osorio", "Villalobos", "Bustos", "Olivares", "Echeverría", "Arias", "Paredes", "Chávez"}

var enFemale = []string{"Emily", "Sarah", "Jessica", "Emma", "Olivia", "Sophie", "Charlotte", "Hannah", "Lucy", "Amelia", "Grace",
	"Chloe", "Rachel", "Lauren", "Megan", "Jennifer", "Amanda", "Katherine", "Rebecca", "Victoria", "Natalie", "Abigail", "Madison",
	"Elizabeth", "Anna", "Claire", "Rose", "Alice", "Harriet", "Zoe", "Isla", "Ava", "Ella", "Mia", "Priya", "Aisha"}

var enMale = []string{"James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel", "Matthew", "Andrew",
	"Christopher", "Joshua", "Ryan", "Benjamin", "Samuel", "Oliver", "Harry", "George", "Jack", "Charlie", "Henry", "Edward",
	"Nathan", "Tyler", "Brandon", "Justin", "Kevin", "Jason", "Mark", "Paul", "Luke", "Adam", "Owen", "Rahul", "Marcus"}

var enLast = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
	"Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen",
	"King", "Wright", "Scott", "Hill", "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
	"Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper",
	"Peterson", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward", "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett",
	"Gray", "Hughes", "Price", "Sanders", "Patel", "Shah", "Fletcher", "Hamilton", "Graham", "Sullivan", "Wallace"}

// title is a job title; es titles come as masculine/feminine pairs.
type title struct {
	m, f string
}

// titles by language and seniority: 0 staff, 1 manager, 2 director, 3 executive.
var esTitles = [4][]title{
	{{"Analista de Marketing", ""}, {"Especialista en SEO", ""}, {"Ejecutivo de Cuentas", "Ejecutiva de Cuentas"}, {"Técnico de Compras", "Técnica de Compras"},
		{"Asistente de Dirección", ""}, {"Analista de Datos", ""}, {"Community Manager", ""}, {"Consultor", "Consultora"}, {"Administrativo", "Administrativa"},
		{"Comercial", ""}, {"Analista de Operaciones", ""}, {"Especialista en Contenidos", ""}},
	{{"Jefe de Compras", "Jefa de Compras"}, {"Jefe de Ventas", "Jefa de Ventas"}, {"Gerente de Marketing", ""}, {"Responsable de Marketing Digital", ""},
		{"Coordinador de Operaciones", "Coordinadora de Operaciones"}, {"Responsable de TI", ""}, {"Jefe de Proyectos", "Jefa de Proyectos"},
		{"Gerente de Cuentas Clave", ""}, {"Jefe de Administración", "Jefa de Administración"}, {"Responsable de Atención al Cliente", ""}},
	{{"Director de Marketing", "Directora de Marketing"}, {"Director Comercial", "Directora Comercial"}, {"Director de Tecnología", "Directora de Tecnología"},
		{"Director de Recursos Humanos", "Directora de Recursos Humanos"}, {"Director de Logística", "Directora de Logística"},
		{"Director de Operaciones", "Directora de Operaciones"}, {"Gerente Comercial", ""}},
	{{"Director General", "Directora General"}, {"CEO", ""}, {"Director Financiero", "Directora Financiera"}, {"Fundador", "Fundadora"},
		{"Gerente General", ""}, {"Socio Director", "Socia Directora"}},
}

var enTitles = [4][]string{
	{"Marketing Analyst", "Sales Development Representative", "Account Executive", "Data Analyst", "Content Specialist",
		"Operations Coordinator", "Executive Assistant", "Procurement Specialist", "Marketing Coordinator"},
	{"Procurement Manager", "Marketing Manager", "Sales Manager", "Operations Manager", "Demand Generation Manager",
		"Project Manager", "IT Manager", "Customer Success Manager"},
	{"Marketing Director", "VP of Sales", "Director of Operations", "Head of Marketing", "IT Director", "HR Director", "Head of Growth"},
	{"CEO", "CFO", "COO", "Founder", "Managing Director", "CTO"},
}

var seniorityNames = [4]string{"staff", "manager", "director", "executive"}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
}

// campaign is a UTM-tagged marketing campaign; landing is the page key its
// ads point to.
type campaign struct {
	source, medium, name string
	lang                 string // "" for both languages
	landing              string
	terms                []string
	contents             []string
	// active months, counted from the start of the demo's year (0-11).
	from, to int
}

var campaigns = []campaign{
	{source: "google", medium: "cpc", name: "busqueda-software-crm", lang: "es", landing: "product", terms: []string{"software crm", "crm para pymes", "alinear marketing y ventas", "lead scoring"}, from: 0, to: 11},
	{source: "google", medium: "cpc", name: "marca-vertice", lang: "es", landing: "home", terms: []string{"vertice", "vertice crm"}, from: 0, to: 11},
	{source: "google", medium: "cpc", name: "search-crm-software", lang: "en", landing: "product", terms: []string{"crm software", "sales and marketing alignment", "lead scoring tool"}, from: 0, to: 11},
	{source: "bing", medium: "cpc", name: "search-sales-alignment", lang: "en", landing: "pricing", terms: []string{"smarketing software", "mql to sql"}, from: 3, to: 9},
	{source: "linkedin", medium: "paid-social", name: "abm-direccion-comercial", lang: "es", landing: "ebook", contents: []string{"carrusel-a", "carrusel-b", "video-30s"}, from: 1, to: 7},
	{source: "linkedin", medium: "paid-social", name: "webinar-smarketing", lang: "es", landing: "webinar", contents: []string{"ponente", "agenda"}, from: 0, to: 11},
	{source: "linkedin", medium: "paid-social", name: "revenue-alignment-webinar", lang: "en", landing: "webinar", contents: []string{"speaker", "agenda"}, from: 0, to: 11},
	{source: "facebook", medium: "paid-social", name: "ebook-embudo-de-ventas", lang: "es", landing: "ebook", contents: []string{"imagen-1", "imagen-2"}, from: 0, to: 5},
	{source: "facebook", medium: "paid-social", name: "retargeting-precios", lang: "es", landing: "pricing", contents: []string{"testimonio", "oferta-anual"}, from: 6, to: 11},
	{source: "newsletter", medium: "email", name: "newsletter-mensual", lang: "es", landing: "blog", from: 0, to: 11},
	{source: "newsletter", medium: "email", name: "monthly-digest", lang: "en", landing: "blog", from: 0, to: 11},
	{source: "newsletter", medium: "email", name: "nurture-leads", landing: "ebook", from: 0, to: 11},
	{source: "marketeros-latam", medium: "partner", name: "webinar-alianza-marketeros", lang: "es", landing: "webinar", from: 2, to: 11},
	{source: "saas-academy", medium: "partner", name: "webinar-saas-academy", lang: "en", landing: "webinar", from: 4, to: 11},
}

// page keys with their paths and titles per language.
type pageDef struct {
	key        string
	esPath     string
	esTitle    string
	esName     string
	enPath     string
	enTitle    string
	enName     string
	infoWeight float64 // how often a contact in information mode sees it
	buyWeight  float64 // ... in buy or customer mode
}

var pages = []pageDef{
	{"home", "/", "Vértice — CRM para equipos de marketing y ventas", "Inicio", "/en/", "Vértice — CRM for marketing and sales teams", "Home", 4, 2},
	{"product", "/producto", "Producto | Vértice", "Producto", "/en/product", "Product | Vértice", "Product", 3, 3},
	{"pricing", "/precios", "Precios | Vértice", "Precios", "/en/pricing", "Pricing | Vértice", "Pricing", 1, 4},
	{"integrations", "/integraciones", "Integraciones | Vértice", "Integraciones", "/en/integrations", "Integrations | Vértice", "Integrations", 1, 3},
	{"customers", "/clientes", "Casos de éxito | Vértice", "Clientes", "/en/customers", "Customer stories | Vértice", "Customers", 1, 2},
	{"blog", "/blog", "Blog | Vértice", "Blog", "/en/blog", "Blog | Vértice", "Blog", 6, 2},
	{"ebook", "/recursos", "Recursos | Vértice", "Recursos", "/en/resources", "Resources | Vértice", "Resources", 2, 1},
	{"webinar", "/webinars", "Webinars | Vértice", "Webinars", "/en/webinars", "Webinars | Vértice", "Webinars", 1, 1},
	{"demo", "/demo", "Solicita una demo | Vértice", "Demo", "/en/demo", "Request a demo | Vértice", "Demo", 0.3, 1},
	{"trial", "/prueba-gratis", "Prueba gratis 14 días | Vértice", "Prueba gratis", "/en/free-trial", "14-day free trial | Vértice", "Free trial", 0.2, 1},
	{"help", "/ayuda", "Centro de ayuda | Vértice", "Ayuda", "/en/help", "Help center | Vértice", "Help", 0.2, 2},
	{"contact", "/contacto", "Contacto | Vértice", "Contacto", "/en/contact", "Contact | Vértice", "Contact", 0.3, 0.5},
}

var esBlogPosts = [][2]string{
	{"diferencia-entre-marketing-y-ventas", "Cuál es la diferencia entre marketing y ventas"},
	{"que-es-un-mql", "Qué es un MQL y cómo definirlo con ventas"},
	{"sla-marketing-ventas", "Cómo escribir un SLA entre marketing y ventas"},
	{"embudo-de-ventas-b2b", "El embudo de ventas B2B, etapa por etapa"},
	{"lead-scoring-para-pymes", "Lead scoring para pymes sin complicarse"},
	{"smarketing", "Smarketing: un solo equipo de ingresos"},
	{"reunion-semanal-de-pipeline", "Cómo llevar la reunión semanal de pipeline"},
	{"nutricion-de-leads", "Nutrición de leads que de verdad convierte"},
	{"modo-informacion-modo-compra", "Modo información y modo compra: qué necesita cada contacto"},
	{"metricas-de-ventas", "Las 7 métricas de ventas que miran los directores comerciales"},
	{"atribucion-de-ingresos", "Atribución de ingresos: qué campaña trajo cada venta"},
	{"leads-reciclados", "Leads reciclados: cómo recuperar lo que ventas devolvió"},
}

var enBlogPosts = [][2]string{
	{"marketing-vs-sales", "Marketing vs. sales: where the handoff breaks"},
	{"what-is-an-mql", "What is an MQL, and who decides?"},
	{"marketing-sales-sla", "How to write a marketing–sales SLA"},
	{"b2b-funnel-metrics", "B2B funnel metrics that actually matter"},
	{"lead-scoring-basics", "Lead scoring basics for small teams"},
	{"weekly-pipeline-review", "Running a weekly pipeline review"},
	{"recycled-leads", "Recycled leads are not lost leads"},
	{"revenue-attribution", "Closed-loop revenue attribution, explained"},
}

// content is a downloadable or a webinar title in one language.
type content struct {
	slug, title string
}

var esEbooks = []content{
	{"guia-embudo-ventas-b2b", "Guía del embudo de ventas B2B"},
	{"plantilla-sla-marketing-ventas", "Plantilla de acuerdo de nivel de servicio marketing-ventas"},
	{"como-definir-un-lead-calificado", "Cómo definir un lead calificado"},
	{"manual-de-smarketing", "Manual de smarketing"},
	{"calculadora-de-embudo", "Calculadora del embudo: de visitas a ventas"},
}

var enEbooks = []content{
	{"b2b-funnel-guide", "The B2B Funnel Guide"},
	{"marketing-sales-sla-template", "Marketing–Sales SLA Template"},
	{"defining-a-qualified-lead", "Defining a Qualified Lead"},
	{"smarketing-playbook", "The Smarketing Playbook"},
}

var esWebinarTitles = []string{
	"Cómo alinear marketing y ventas en 90 días",
	"Del MQL al SQL: definiciones que sí funcionan",
	"SLA entre marketing y ventas: plantilla y ejemplos",
	"Embudo de ventas B2B: las métricas que importan",
	"Smarketing: un solo equipo de ingresos",
	"Cómo calificar leads con lead scoring",
	"La reunión semanal de pipeline, paso a paso",
	"Automatización de marketing para pymes",
	"Nutrición de leads que convierte",
	"Cerrar el ciclo: atribución de ingresos",
	"Qué hacer con los leads que ventas devuelve",
	"Planificar el año comercial con el embudo",
}

var enWebinarTitles = []string{
	"Revenue alignment in 90 days",
	"MQL vs SQL: definitions that work",
	"Building an SLA between marketing and sales",
	"B2B funnel metrics that matter",
	"Lead scoring without guesswork",
	"Running the weekly pipeline review",
	"Closed-loop attribution for B2B teams",
	"Recycling leads the right way",
}

var esNewsletterSubjects = []string{
	"Cómo definir un MQL con tu equipo comercial",
	"5 errores en el traspaso de leads a ventas",
	"Nuevo webinar: alinear marketing y ventas",
	"Plantilla gratuita: SLA marketing-ventas",
	"Lo que aprendimos analizando 1.000 embudos",
	"Tu embudo en una sola página",
	"¿Cuántos leads necesita tu equipo de ventas?",
	"Casos de éxito: de la hoja de cálculo al CRM",
	"Vuelta al trabajo: prepara el último trimestre",
	"Métricas de ventas que importan",
	"Cómo recuperar leads reciclados",
	"Resumen del año y novedades del producto",
}

var enNewsletterSubjects = []string{
	"How to agree on an MQL with sales",
	"5 handoff mistakes between marketing and sales",
	"New webinar: revenue alignment",
	"Free template: marketing–sales SLA",
	"What 1,000 funnels taught us",
	"Your funnel on one page",
	"How many leads does your sales team need?",
	"Customer story: from spreadsheets to one funnel",
	"Planning the last quarter",
	"Sales metrics that matter",
	"Bringing recycled leads back",
	"Year in review and product news",
}

var esSalesSubjects = []string{"¿Hablamos 15 minutos?", "Una idea para el equipo comercial de {company}", "Seguimiento", "¿Sigue siendo prioridad?"}
var enSalesSubjects = []string{"Quick question", "An idea for {company}'s sales team", "Following up", "Still a priority?"}

var esMonths = []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
var enMonths = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

var esFeatures = []string{"el lead scoring", "los SLA entre equipos", "la integración con su ERP", "los informes de embudo", "la atribución de campañas", "las secuencias de nutrición", "el tablero de pipeline"}
var enFeatures = []string{"lead scoring", "the team SLAs", "the ERP integration", "funnel reports", "campaign attribution", "nurture sequences", "the pipeline board"}

var competitors = []string{"EmbudoPro", "LeadMax", "Ventix", "PipeFlow", "CRMNova"}

// plan is a price plan; seat prices are per month in EUR.
type pricePlan struct {
	es, en    string
	seatPrice int
}

var plans = []pricePlan{{"Plan Inicial", "Starter", 25}, {"Plan Profesional", "Professional", 49}, {"Plan Empresa", "Enterprise", 89}}

// Reasons a sales rep sends a lead back, and how often.
var recycleReasons = []string{"not_ready", "no_budget", "bad_fit", "no_response"}

// Reasons deals are lost.
var lossReasons = []string{"price", "competitor", "timing", "no_decision"}

// notes holds note templates by situation; {placeholders} are filled in.
var notes = map[string]map[string][]string{
	"mql": {
		"es": {"Asistió al webinar «{webinar}» y se quedó a las preguntas. Buen encaje: {industry}, {employees} empleados.",
			"Ha descargado dos recursos y asistió al webinar. Pasa a ventas según el acuerdo.",
			"Preguntó en el webinar por {feature}. Avisad a {rep} antes de llamar."},
		"en": {"Attended the «{webinar}» webinar and stayed for the Q&A. Good fit: {industry}, {employees} employees.",
			"Downloaded two resources and attended the webinar; handing over per the agreement.",
			"Asked about {feature} during the webinar. {rep}, worth mentioning on the first call."},
	},
	"sal": {
		"es": {"Primera llamada con {first}: hoy gestionan los leads en hojas de cálculo. Interés en {feature}.",
			"Aceptado. Equipo comercial de unas {seats} personas; quieren ver {feature}.",
			"Hablé con {first}. Tienen un CRM antiguo que nadie usa; buena oportunidad si entra en presupuesto."},
		"en": {"First call with {first}: they track leads in spreadsheets today. Interested in {feature}.",
			"Accepted. Sales team of about {seats}; they want to see {feature}.",
			"Spoke to {first}. Legacy CRM nobody uses; good opportunity if budget allows."},
	},
	"not_ready": {
		"es": {"Todavía no es el momento: están cerrando el presupuesto. Volver a intentarlo en {month}.",
			"Interesados, pero sin prioridad este trimestre. Devuelto a nutrición."},
		"en": {"Not the right time: they are closing this year's budget. Try again in {month}.",
			"Interested but not a priority this quarter. Back to nurturing."},
	},
	"no_budget": {
		"es": {"Sin presupuesto asignado hasta {month}.", "Les encaja, pero el presupuesto de este año ya está comprometido."},
		"en": {"No budget until {month}.", "Good fit, but this year's budget is already committed."},
	},
	"bad_fit": {
		"es": {"Equipo comercial de dos personas; demasiado pequeño para nosotros por ahora.", "Buscan un ERP, no un CRM. No encaja."},
		"en": {"Two-person sales team; too small for us for now.", "They are after an ERP, not a CRM. Not a fit."},
	},
	"no_response": {
		"es": {"Tres llamadas y dos correos sin respuesta.", "No contesta desde la primera llamada. Devuelto a marketing."},
		"en": {"Three calls and two emails, no reply.", "No answer since the first call. Back to marketing."},
	},
	"sql": {
		"es": {"Ha empezado la prueba con {seats} usuarios. Le interesa sobre todo {feature}.", "Descargó la lista de precios y activó la prueba. Preparar propuesta."},
		"en": {"Started the trial with {seats} users; mostly interested in {feature}.", "Downloaded the price list and started a trial. Preparing a proposal."},
	},
	"won": {
		"es": {"Cerrado: {plan}, {seats} usuarios. Arranque previsto en {month}.", "¡Ganado! Decisivo: {feature} y la demo con el equipo de {first}."},
		"en": {"Closed: {plan}, {seats} seats. Kick-off planned for {month}.", "Won! What made it: {feature} and the demo with {first}'s team."},
	},
	"price": {
		"es": {"Perdido por precio: su presupuesto máximo era un 30 % menor.", "Nos ven caros frente a {competitor}."},
		"en": {"Lost on price: their ceiling was 30% below our quote.", "Too expensive compared to {competitor}."},
	},
	"competitor": {
		"es": {"Se quedan con {competitor}; les pesó la integración con su ERP.", "Eligieron {competitor} por una relación previa con su director."},
		"en": {"Went with {competitor}; the ERP integration tipped it.", "Chose {competitor}; their director had worked with them before."},
	},
	"timing": {
		"es": {"Posponen la decisión hasta {month}.", "Reorganización interna; retoman el proyecto el año que viene."},
		"en": {"Decision pushed to {month}.", "Internal reorganisation; project back on the table next year."},
	},
	"no_decision": {
		"es": {"El comité no llegó a decidir; el proyecto queda parado.", "Sin respuesta tras la propuesta. Cerramos como perdido."},
		"en": {"The committee never decided; project stalled.", "No reply after the proposal. Closing as lost."},
	},
	"recycled_marketing": {
		"es": {"Añadido a la secuencia de nutrición «nurture-leads».", "Vuelve a nutrición; invitar al próximo webinar."},
		"en": {"Added to the nurture-leads sequence.", "Back in nurturing; invite to the next webinar."},
	},
	"evangelist": {
		"es": {"Ha aceptado participar en un caso de éxito y en el próximo webinar.", "Nos ha recomendado a dos empresas de su sector."},
		"en": {"Agreed to a customer story and to speak at the next webinar.", "Referred us to two companies in their industry."},
	},
	"review": {
		"es": {"Revisado en la reunión semanal: {rep} prepara una propuesta con descuento por pago anual.", "Comentado en la reunión de pipeline: priorizar, encaja con el perfil ideal."},
		"en": {"Reviewed in the weekly meeting: {rep} will offer an annual-payment discount.", "Discussed in the pipeline review: prioritise, matches the ideal profile."},
	},
}
