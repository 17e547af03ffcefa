#[automatically_derived]
impl ::rampart::__private::ApiSchema for SignUp {
    fn schema() -> ::rampart::__private::utoipa::openapi::RefOr<
        ::rampart::__private::utoipa::openapi::schema::Schema,
    > {
        ::rampart::__private::object_schema(
            ::core::option::Option::Some("A sign-up form."),
            true,
            ::std::vec![
                ::rampart::__private::FieldDoc { name : "emailAddress", schema : < String
                as ::rampart::__private::ApiSchema > ::schema(), required : true,
                description : ::core::option::Option::Some("Where to write."),
                constraints : & [::rampart::__private::Constraint::Email], },
                ::rampart::__private::FieldDoc { name : "password", schema : < String as
                ::rampart::__private::ApiSchema > ::schema(), required : true,
                description : ::core::option::Option::None, constraints : &
                [::rampart::__private::Constraint::MinLength((8) as usize),
                ::rampart::__private::Constraint::MaxLength((64) as usize),
                ::rampart::__private::Constraint::Pattern("^[^ ]+$")], },
                ::rampart::__private::FieldDoc { name : "age", schema : < Option < u8 >
                as ::rampart::__private::ApiSchema > ::schema(), required : false,
                description : ::core::option::Option::None, constraints : &
                [::rampart::__private::Constraint::ExclusiveMinimum((0) as f64),
                ::rampart::__private::Constraint::Maximum((150) as f64)], }
            ],
        )
    }
}
#[automatically_derived]
impl ::rampart::__private::utoipa::PartialSchema for SignUp {
    fn schema() -> ::rampart::__private::utoipa::openapi::RefOr<
        ::rampart::__private::utoipa::openapi::schema::Schema,
    > {
        <SignUp as ::rampart::__private::ApiSchema>::schema()
    }
}
#[automatically_derived]
impl ::rampart::__private::utoipa::ToSchema for SignUp {
    fn name() -> ::std::borrow::Cow<'static, str> {
        ::std::borrow::Cow::Borrowed("SignUp")
    }
}
