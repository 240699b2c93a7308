package config

// Permissions is the permissions section: who counts as a superuser for
// rules with a role (and for plugins that check roles).
//
//	permissions:
//	  superusers: [alice, ops-oncall]
type Permissions struct {
	// Superusers are user IDs that pass every role check: role: superuser
	// rules answer only them, role: owner and role: admin rules answer
	// them in every group. Default none.
	Superusers []string `yaml:"superusers"`
}
