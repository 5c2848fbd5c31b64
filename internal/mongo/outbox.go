package mongo

func outboxIndexes() []collectionIndexes { return nil }
