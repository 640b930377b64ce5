"""An XTCE definition exercising encodings the IMAP test definitions do not use.

Fields at odd bit alignments; 64-bit and little-endian integers; half, single and little-endian double floats;
a fixed string; a 12-bit binary; enumerations, booleans, a time type with scale and offset; polynomial
calibrators of integer and float raw values with exponents up to 3 (exact integer powers); a context calibrator
comparing another field's enumeration label; a linear spline; a nested container; and a PKT_LEN-sized binary
followed by fixed fields.

Polynomials have at most two terms: `sum()` of floats rounds identically then on every CPython, whereas from
3.12 on it compensates longer sums (sdc follows the pinned CPython 3.11, summing left to right).
"""

SYNTHETIC_XTCE = """<?xml version="1.0" encoding="UTF-8"?>
<xtce:SpaceSystem xmlns:xtce="http://www.omg.org/space/xtce" name="SYNTHETIC">
  <xtce:TelemetryMetaData>
    <xtce:ParameterTypeSet>
      <xtce:IntegerParameterType name="U1"><xtce:IntegerDataEncoding sizeInBits="1"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U2"><xtce:IntegerDataEncoding sizeInBits="2"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U3"><xtce:IntegerDataEncoding sizeInBits="3"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U4"><xtce:IntegerDataEncoding sizeInBits="4"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U5"><xtce:IntegerDataEncoding sizeInBits="5"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U11"><xtce:IntegerDataEncoding sizeInBits="11"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U14"><xtce:IntegerDataEncoding sizeInBits="14"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U16"><xtce:IntegerDataEncoding sizeInBits="16"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U32"><xtce:IntegerDataEncoding sizeInBits="32"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="U64"><xtce:IntegerDataEncoding sizeInBits="64"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="S13" signed="true"><xtce:IntegerDataEncoding sizeInBits="13" encoding="twosComplement"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="LE16"><xtce:IntegerDataEncoding sizeInBits="16" byteOrder="leastSignificantByteFirst"/></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="SLE32" signed="true"><xtce:IntegerDataEncoding sizeInBits="32" encoding="signed" byteOrder="leastSignificantByteFirst"/></xtce:IntegerParameterType>
      <xtce:FloatParameterType name="F32"><xtce:FloatDataEncoding sizeInBits="32"/></xtce:FloatParameterType>
      <xtce:FloatParameterType name="F64LE"><xtce:FloatDataEncoding sizeInBits="64" byteOrder="leastSignificantByteFirst"/></xtce:FloatParameterType>
      <xtce:FloatParameterType name="F16"><xtce:FloatDataEncoding sizeInBits="16" encoding="IEEE754"/></xtce:FloatParameterType>
      <xtce:FloatParameterType name="F32CAL"><xtce:FloatDataEncoding sizeInBits="32"><xtce:DefaultCalibrator><xtce:PolynomialCalibrator>
        <xtce:Term coefficient="-1.25" exponent="1"/><xtce:Term coefficient="0.001" exponent="3"/>
      </xtce:PolynomialCalibrator></xtce:DefaultCalibrator></xtce:FloatDataEncoding></xtce:FloatParameterType>
      <xtce:StringParameterType name="STR3"><xtce:StringDataEncoding encoding="UTF-8"><xtce:SizeInBits><xtce:Fixed><xtce:FixedValue>24</xtce:FixedValue></xtce:Fixed></xtce:SizeInBits></xtce:StringDataEncoding></xtce:StringParameterType>
      <xtce:BinaryParameterType name="BIN12"><xtce:BinaryDataEncoding><xtce:SizeInBits><xtce:FixedValue>12</xtce:FixedValue></xtce:SizeInBits></xtce:BinaryDataEncoding></xtce:BinaryParameterType>
      <xtce:BinaryParameterType name="BLOB"><xtce:BinaryDataEncoding><xtce:SizeInBits><xtce:DynamicValue>
        <xtce:ParameterInstanceRef parameterRef="PKT_LEN" useCalibratedValue="false"/><xtce:LinearAdjustment slope="8" intercept="-72"/>
      </xtce:DynamicValue></xtce:SizeInBits></xtce:BinaryDataEncoding></xtce:BinaryParameterType>
      <xtce:EnumeratedParameterType name="MODE"><xtce:IntegerDataEncoding sizeInBits="2"/>
        <xtce:EnumerationList><xtce:Enumeration value="0" label="OFF"/><xtce:Enumeration value="1" label="ON"/><xtce:Enumeration value="2" label="SAFE"/></xtce:EnumerationList>
      </xtce:EnumeratedParameterType>
      <xtce:BooleanParameterType name="FLAG"><xtce:IntegerDataEncoding sizeInBits="1"/></xtce:BooleanParameterType>
      <xtce:IntegerParameterType name="CAL"><xtce:IntegerDataEncoding sizeInBits="12"><xtce:DefaultCalibrator><xtce:PolynomialCalibrator>
        <xtce:Term coefficient="0.25" exponent="1"/><xtce:Term coefficient="0.001" exponent="2"/>
      </xtce:PolynomialCalibrator></xtce:DefaultCalibrator></xtce:IntegerDataEncoding></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="CUBE"><xtce:IntegerDataEncoding sizeInBits="64" encoding="twosComplement"><xtce:DefaultCalibrator><xtce:PolynomialCalibrator>
        <xtce:Term coefficient="3.0e-40" exponent="3"/><xtce:Term coefficient="0.1" exponent="1"/>
      </xtce:PolynomialCalibrator></xtce:DefaultCalibrator></xtce:IntegerDataEncoding></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="CTX"><xtce:IntegerDataEncoding sizeInBits="8">
        <xtce:DefaultCalibrator><xtce:PolynomialCalibrator><xtce:Term coefficient="2" exponent="1"/></xtce:PolynomialCalibrator></xtce:DefaultCalibrator>
        <xtce:ContextCalibratorList><xtce:ContextCalibrator>
          <xtce:ContextMatch><xtce:Comparison parameterRef="AMODE" value="SAFE" useCalibratedValue="true"/></xtce:ContextMatch>
          <xtce:Calibrator><xtce:PolynomialCalibrator><xtce:Term coefficient="100" exponent="0"/><xtce:Term coefficient="1" exponent="1"/></xtce:PolynomialCalibrator></xtce:Calibrator>
        </xtce:ContextCalibrator></xtce:ContextCalibratorList>
      </xtce:IntegerDataEncoding></xtce:IntegerParameterType>
      <xtce:IntegerParameterType name="SPL"><xtce:IntegerDataEncoding sizeInBits="8"><xtce:DefaultCalibrator>
        <xtce:SplineCalibrator order="1" extrapolate="true">
          <xtce:SplinePoint raw="300" calibrated="310.5"/><xtce:SplinePoint raw="0" calibrated="0"/><xtce:SplinePoint raw="100" calibrated="50.25"/>
        </xtce:SplineCalibrator></xtce:DefaultCalibrator></xtce:IntegerDataEncoding></xtce:IntegerParameterType>
      <xtce:AbsoluteTimeParameterType name="TIME"><xtce:Encoding scale="0.5" offset="10"><xtce:IntegerDataEncoding sizeInBits="32"/></xtce:Encoding>
        <xtce:ReferenceTime><xtce:Epoch>TAI</xtce:Epoch></xtce:ReferenceTime></xtce:AbsoluteTimeParameterType>
    </xtce:ParameterTypeSet>
    <xtce:ParameterSet>
      <xtce:Parameter name="VERSION" parameterTypeRef="U3"/>
      <xtce:Parameter name="TYPE" parameterTypeRef="U1"/>
      <xtce:Parameter name="SEC_HDR_FLG" parameterTypeRef="U1"/>
      <xtce:Parameter name="PKT_APID" parameterTypeRef="U11"/>
      <xtce:Parameter name="SEQ_FLGS" parameterTypeRef="U2"/>
      <xtce:Parameter name="SRC_SEQ_CTR" parameterTypeRef="U14"/>
      <xtce:Parameter name="PKT_LEN" parameterTypeRef="U16"/>
      <xtce:Parameter name="MET" parameterTypeRef="U32"/>
      <xtce:Parameter name="A3" parameterTypeRef="U3"/>
      <xtce:Parameter name="A64" parameterTypeRef="U64"/>
      <xtce:Parameter name="A13" parameterTypeRef="S13"/>
      <xtce:Parameter name="ALE" parameterTypeRef="LE16"/>
      <xtce:Parameter name="ASLE" parameterTypeRef="SLE32"/>
      <xtce:Parameter name="AF32" parameterTypeRef="F32"/>
      <xtce:Parameter name="AF64" parameterTypeRef="F64LE"/>
      <xtce:Parameter name="AF16" parameterTypeRef="F16"/>
      <xtce:Parameter name="AF32CAL" parameterTypeRef="F32CAL"/>
      <xtce:Parameter name="ASTR" parameterTypeRef="STR3"/>
      <xtce:Parameter name="ABIN" parameterTypeRef="BIN12"/>
      <xtce:Parameter name="AMODE" parameterTypeRef="MODE"/>
      <xtce:Parameter name="AFLAG" parameterTypeRef="FLAG"/>
      <xtce:Parameter name="ACAL" parameterTypeRef="CAL"/>
      <xtce:Parameter name="ACUBE" parameterTypeRef="CUBE"/>
      <xtce:Parameter name="ACTX" parameterTypeRef="CTX"/>
      <xtce:Parameter name="ASPL" parameterTypeRef="SPL"/>
      <xtce:Parameter name="ATIME" parameterTypeRef="TIME"/>
      <xtce:Parameter name="APAD" parameterTypeRef="U5"/>
      <xtce:Parameter name="BLOB" parameterTypeRef="BLOB"/>
      <xtce:Parameter name="TAIL" parameterTypeRef="U16"/>
      <xtce:Parameter name="TAILBIN" parameterTypeRef="BIN12"/>
      <xtce:Parameter name="TAILPAD" parameterTypeRef="U4"/>
    </xtce:ParameterSet>
    <xtce:ContainerSet>
      <xtce:SequenceContainer name="CCSDSPacket" abstract="true">
        <xtce:EntryList>
          <xtce:ParameterRefEntry parameterRef="VERSION"/>
          <xtce:ParameterRefEntry parameterRef="TYPE"/>
          <xtce:ParameterRefEntry parameterRef="SEC_HDR_FLG"/>
          <xtce:ParameterRefEntry parameterRef="PKT_APID"/>
          <xtce:ParameterRefEntry parameterRef="SEQ_FLGS"/>
          <xtce:ParameterRefEntry parameterRef="SRC_SEQ_CTR"/>
          <xtce:ParameterRefEntry parameterRef="PKT_LEN"/>
        </xtce:EntryList>
      </xtce:SequenceContainer>
      <xtce:SequenceContainer name="FIXED">
        <xtce:BaseContainer containerRef="CCSDSPacket">
          <xtce:RestrictionCriteria><xtce:Comparison parameterRef="PKT_APID" value="100" useCalibratedValue="false"/></xtce:RestrictionCriteria>
        </xtce:BaseContainer>
        <xtce:EntryList>
          <xtce:ParameterRefEntry parameterRef="MET"/>
          <xtce:ParameterRefEntry parameterRef="A3"/>
          <xtce:ParameterRefEntry parameterRef="A64"/>
          <xtce:ParameterRefEntry parameterRef="A13"/>
          <xtce:ParameterRefEntry parameterRef="ALE"/>
          <xtce:ParameterRefEntry parameterRef="ASLE"/>
          <xtce:ParameterRefEntry parameterRef="AF32"/>
          <xtce:ParameterRefEntry parameterRef="AF64"/>
          <xtce:ParameterRefEntry parameterRef="AF16"/>
          <xtce:ParameterRefEntry parameterRef="AF32CAL"/>
          <xtce:ParameterRefEntry parameterRef="ASTR"/>
          <xtce:ParameterRefEntry parameterRef="ABIN"/>
          <xtce:ParameterRefEntry parameterRef="AMODE"/>
          <xtce:ParameterRefEntry parameterRef="AFLAG"/>
          <xtce:ParameterRefEntry parameterRef="ACAL"/>
          <xtce:ParameterRefEntry parameterRef="ACUBE"/>
          <xtce:ParameterRefEntry parameterRef="ACTX"/>
          <xtce:ParameterRefEntry parameterRef="ASPL"/>
          <xtce:ParameterRefEntry parameterRef="ATIME"/>
          <xtce:ParameterRefEntry parameterRef="APAD"/>
        </xtce:EntryList>
      </xtce:SequenceContainer>
      <xtce:SequenceContainer name="SUB">
        <xtce:EntryList><xtce:ParameterRefEntry parameterRef="A3"/><xtce:ParameterRefEntry parameterRef="A13"/></xtce:EntryList>
      </xtce:SequenceContainer>
      <xtce:SequenceContainer name="VAR">
        <xtce:BaseContainer containerRef="CCSDSPacket">
          <xtce:RestrictionCriteria><xtce:Comparison parameterRef="PKT_APID" value="200" useCalibratedValue="false"/></xtce:RestrictionCriteria>
        </xtce:BaseContainer>
        <xtce:EntryList>
          <xtce:ParameterRefEntry parameterRef="MET"/>
          <xtce:ContainerRefEntry containerRef="SUB"/>
          <xtce:ParameterRefEntry parameterRef="BLOB"/>
          <xtce:ParameterRefEntry parameterRef="TAIL"/>
          <xtce:ParameterRefEntry parameterRef="TAILBIN"/>
          <xtce:ParameterRefEntry parameterRef="TAILPAD"/>
        </xtce:EntryList>
      </xtce:SequenceContainer>
    </xtce:ContainerSet>
  </xtce:TelemetryMetaData>
</xtce:SpaceSystem>
"""
