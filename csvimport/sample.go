package csvimport

import (
	"bufio"
	"io"
	"strconv"
)

// SampleHeader is the header WriteSample writes; every column maps
// automatically (Company becomes the property "company").
var SampleHeader = []string{"Email", "First Name", "Last Name", "Phone", "Job Title", "Company", "Country", "Source", "Stage", "Consent"}

var (
	sampleFirst   = []string{"Ana", "Luis", "María", "José", "Lucía", "Carlos", "Sofía", "Javier", "Emma", "Oliver", "Valentina", "Mateo", "Camila", "Diego", "Isabel", "James"}
	sampleLast    = []string{"García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Rodríguez", "Fernández", "Smith", "Johnson", "Torres", "Ramírez", "Flores", "Díaz", "Brown", "Morales"}
	sampleTitle   = []string{"CEO", "CMO", "Director de Marketing", "Head of Sales", "Responsable de Compras", "Product Manager", "Analista", "Consultor", "VP Engineering", "Gerente General"}
	sampleCompany = []string{"Acme Iberia", "Soluciones Andinas", "TechNova", "Grupo Meridiano", "Blue Harbor Ltd", "Innovación Digital", "Pampa Software", "Cordillera Labs", "Northwind", "Sol y Mar Hoteles"}
	// Codes and names, as real files mix them.
	sampleCountry = []string{"ES", "España", "MX", "México", "AR", "CO", "Chile", "PE", "US", "United Kingdom"}
	sampleSource  = []string{"webinar", "ebook", "feria", "referral", "google_ads", "linkedin", "organic"}
	sampleStage   = []string{"subscriber", "subscriber", "lead", "lead", "lead", "mql", "sal", "customer"}
	sampleConsent = []string{"yes", "no", "sí", "1", "true", "0"}
)

// SampleRow returns row i of WriteSample's file, in SampleHeader order,
// reusing dst.
func SampleRow(i int, dst []string) []string {
	// Co-prime strides spread the values so that rows look mixed.
	return append(dst[:0],
		"contact"+strconv.Itoa(i)+"@example"+strconv.Itoa(i%997)+".com",
		sampleFirst[i%len(sampleFirst)],
		sampleLast[(i*7+3)%len(sampleLast)],
		"+34 6"+strconv.Itoa(10000000+(i*7919)%90000000),
		sampleTitle[(i*3)%len(sampleTitle)],
		sampleCompany[(i*5+1)%len(sampleCompany)],
		sampleCountry[(i*11)%len(sampleCountry)],
		sampleSource[i%len(sampleSource)],
		sampleStage[(i*13)%len(sampleStage)],
		sampleConsent[i%len(sampleConsent)],
	)
}

// WriteSample writes a deterministic CSV of n contacts with distinct emails
// (no value needs quoting), for benchmarks and trials of the import.
func WriteSample(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	writeRow := func(row []string) {
		for j, v := range row {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString(v)
		}
		bw.WriteByte('\n')
	}
	writeRow(SampleHeader)
	var row []string
	for i := range n {
		row = SampleRow(i, row)
		writeRow(row)
	}
	// bufio.Writer keeps the first write error and returns it here.
	return bw.Flush()
}
