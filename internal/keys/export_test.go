package keys

// KeyIDs returns the ids of every published key, oldest first: the tests
// compare ids, the service reads Keys.
func (m *Manager) KeyIDs() []string {
	stored := m.ring.Load().published
	ids := make([]string, len(stored))
	for i, k := range stored {
		ids[i] = k.ID
	}
	return ids
}
