package mongo

func appointmentIndexes() []collectionIndexes { return nil }
