package data

// The outcome columns of the cohort schema that abscopal's built-in models
// predict, named once: the two responses to radioimmunotherapy, and the
// toxicity a choice of regimen is weighed against.
const (
	AbscopalResponse  = "abscopal_response"
	ObjectiveResponse = "objective_response"
	PneumonitisGrade  = "pneumonitis_grade"
)

// Endpoint is a survival endpoint: its name and the two columns it is read
// from, named as the cohort schema (and the real cohort of bench/README.md)
// names them: the follow-up in months, and whether it ended with the event.
type Endpoint struct {
	Name  string // "os", "pfs"
	Time  string // NAME_months
	Event string // NAME_event
}

// Endpoints returns the survival endpoints of the cohort schema: overall
// and progression-free survival.
func Endpoints() []Endpoint {
	return []Endpoint{{"os", "os_months", "os_event"}, {"pfs", "pfs_months", "pfs_event"}}
}

// EndpointOf returns the endpoint named name, and false for a name not in
// Endpoints.
func EndpointOf(name string) (Endpoint, bool) {
	for _, e := range Endpoints() {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

// EndpointNames lists the names of Endpoints.
func EndpointNames() []string {
	var names []string
	for _, e := range Endpoints() {
		names = append(names, e.Name)
	}
	return names
}

// TreatmentInputs are the fields that describe a patient's treatment
// whenever it is described: the required ones other than the id (the
// checkpoint inhibitor), the radiotherapy dose (0 or null: none), and those
// required with radiotherapy (fractions, site). An Open Inference client
// is told of them for every model of the built-in spec.
func TreatmentInputs() []string {
	var out []string
	for _, f := range CohortFields() {
		if (f.Required && f.Name != "patient_id") || f.Name == "rt_dose_gy" || f.RequiredWhenRT {
			out = append(out, f.Name)
		}
	}
	return out
}
