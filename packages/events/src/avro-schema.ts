/** The subset of Avro schema JSON our schemas use, with our `x-` validation annotations. */
export type AvroType = string | AvroType[] | AvroNamed;

export interface AvroNamed {
  type: string;
  name?: string;
  namespace?: string;
  doc?: string;
  logicalType?: string;
  symbols?: string[];
  items?: AvroType;
  fields?: AvroField[];
  'x-topic'?: string;
  'x-rules'?: string[];
}

export interface AvroField extends Annotations {
  name: string;
  type: AvroType;
  doc?: string;
  default?: unknown;
}

/** Rules Avro types cannot express; the JSON validator enforces them for both encodings. */
export interface Annotations {
  'x-const'?: number;
  'x-min'?: number;
  'x-max'?: number;
  'x-maxDecimals'?: number;
  'x-minLength'?: number;
  'x-maxLength'?: number;
  'x-maxItems'?: number;
  'x-format'?: 'iso4217';
  /** The rejection code for a broken numeric rule (default invalid_value). */
  'x-rejection'?: string;
}
